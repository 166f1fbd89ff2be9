import { Body, Controller, Get, HttpCode, Param, Post, Query, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { ApiProblems } from '../common/problem.dto';
import {
  AlignedLyricsResponseDto,
  ClipResponseDto,
  ClipsResponseDto,
  GenerationResponseDto,
} from './dto/generation-response.dto';
import type { FastifyReply } from 'fastify';
import { IdParamDto } from '../common/dto';
import { Idempotent } from '../common/idempotency/idempotent.decorator';
import { Clip } from '../suno/clip';
import { ClipsService, ClipsView } from './clips.service';
import { ClipIdsQueryDto } from './dto/clips.dto';
import { ExtendClipDto, WaitQueryDto } from './dto/generation.dto';
import { GenerationView } from './generation';
import { GenerationService } from './generation.service';

@ApiTags('clips')
@ApiBearerAuth()
@ApiProblems()
@Controller('v1/clips')
export class ClipsController {
  constructor(
    private readonly clips: ClipsService,
    private readonly generations: GenerationService,
  ) {}

  @Get()
  @ApiOperation({ summary: 'Read several clips; unknown ids are listed in missing_ids.' })
  @ApiResponse({ status: 200, type: ClipsResponseDto })
  many(@Query() query: ClipIdsQueryDto): Promise<ClipsView> {
    return this.clips.many(query.ids);
  }

  @Get(':id')
  @ApiOperation({ summary: 'Read one clip.' })
  @ApiResponse({ status: 200, type: ClipResponseDto })
  one(@Param() params: IdParamDto): Promise<Clip> {
    return this.clips.one(params.id);
  }

  @Get(':id/aligned-lyrics')
  @ApiOperation({ summary: "Word timings of a clip's lyrics; empty until the clip is complete." })
  @ApiResponse({ status: 200, type: AlignedLyricsResponseDto })
  alignedLyrics(@Param() params: IdParamDto) {
    return this.clips.alignedLyrics(params.id);
  }

  @Post(':id/extend')
  @HttpCode(202)
  @Idempotent()
  @ApiOperation({ summary: 'Extend a clip from continue_at seconds; returns a generation.' })
  @ApiResponse({ status: 202, type: GenerationResponseDto })
  async extend(
    @Param() params: IdParamDto,
    @Body() body: ExtendClipDto,
    @Query() wait: WaitQueryDto,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<GenerationView> {
    const answer = await this.generations.extend(params.id, body, wait);
    reply.status(answer.httpStatus);

    return answer.body;
  }

  @Post(':id/concat')
  @HttpCode(202)
  @Idempotent()
  @ApiOperation({
    summary: 'Make the whole song from an extended clip; returns a generation with one clip.',
  })
  @ApiResponse({ status: 202, type: GenerationResponseDto })
  async concat(
    @Param() params: IdParamDto,
    @Query() wait: WaitQueryDto,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<GenerationView> {
    const answer = await this.generations.concat(params.id, wait);
    reply.status(answer.httpStatus);

    return answer.body;
  }
}
