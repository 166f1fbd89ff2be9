import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { ApiProblems } from '../common/problem.dto';
import { LyricsResponseDto } from './dto/lyrics-response.dto';
import { Idempotent } from '../common/idempotency/idempotent.decorator';
import { WaitBudgetQueryDto } from '../common/dto';
import { CreateLyricsDto, LyricsIdParamDto } from './dto/lyrics.dto';
import { LyricsService, LyricsView } from './lyrics.service';

@ApiTags('lyrics')
@ApiBearerAuth()
@ApiProblems()
@Controller('v1/lyrics')
export class LyricsController {
  constructor(private readonly lyrics: LyricsService) {}

  @Post()
  @HttpCode(200)
  @Idempotent()
  @ApiOperation({ summary: 'Generate lyrics from a prompt; wait=true returns them when complete.' })
  @ApiResponse({ status: 200, type: LyricsResponseDto })
  create(@Body() body: CreateLyricsDto, @Query() wait: WaitBudgetQueryDto): Promise<LyricsView> {
    return this.lyrics.create(body.prompt, wait);
  }

  @Get(':id')
  @ApiOperation({ summary: 'Read a lyrics job; wait=true long-polls until complete.' })
  @ApiResponse({ status: 200, type: LyricsResponseDto })
  get(@Param() params: LyricsIdParamDto, @Query() wait: WaitBudgetQueryDto): Promise<LyricsView> {
    return this.lyrics.get(params.id, wait);
  }
}
