import { Body, Controller, Get, HttpCode, Param, Post, Query, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { ApiProblems, ProblemDto } from '../common/problem.dto';
import { GenerationResponseDto } from './dto/generation-response.dto';
import type { FastifyReply } from 'fastify';
import { IdParamDto } from '../common/dto';
import { Idempotent } from '../common/idempotency/idempotent.decorator';
import { CreateGenerationDto, WaitQueryDto } from './dto/generation.dto';
import { GenerationView } from './generation';
import { GenerationService } from './generation.service';

@ApiTags('generations')
@ApiBearerAuth()
@ApiProblems()
@Controller('v1/generations')
export class GenerationsController {
  constructor(private readonly generations: GenerationService) {}

  @Post()
  @HttpCode(202)
  @Idempotent()
  @ApiOperation({
    summary:
      'Create two songs, in custom mode (prompt, title, tags) or description mode (gpt_description_prompt).',
  })
  @ApiResponse({
    status: 200,
    description: 'Finished while waiting (wait=true).',
    type: GenerationResponseDto,
  })
  @ApiResponse({
    status: 202,
    description: 'Submitted; poll GET /v1/generations/{id} or retry with wait=true.',
    type: GenerationResponseDto,
  })
  @ApiResponse({ status: 402, description: 'INSUFFICIENT_CREDITS.', type: ProblemDto })
  @ApiResponse({
    status: 409,
    description: 'IDEMPOTENCY_CONFLICT: a request with this key is still running.',
    type: ProblemDto,
  })
  @ApiResponse({
    status: 422,
    description:
      'CONTENT_REJECTED (the upstream refused the text, wait=true) or IDEMPOTENCY_KEY_REUSED.',
    type: ProblemDto,
  })
  async create(
    @Body() body: CreateGenerationDto,
    @Query() wait: WaitQueryDto,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<GenerationView> {
    const answer = await this.generations.create(body, wait);
    reply.status(answer.httpStatus);

    return answer.body;
  }

  @Get(':id')
  @ApiOperation({
    summary:
      'Read a generation and its clips; wait=true long-polls until it finishes or the budget ends.',
  })
  @ApiResponse({ status: 200, description: 'Finished.', type: GenerationResponseDto })
  @ApiResponse({ status: 202, description: 'Still running.', type: GenerationResponseDto })
  @ApiResponse({ status: 404, description: 'NOT_FOUND.', type: ProblemDto })
  async get(
    @Param() params: IdParamDto,
    @Query() wait: WaitQueryDto,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<GenerationView> {
    const answer = await this.generations.get(params.id, wait);
    reply.status(answer.httpStatus);

    return answer.body;
  }
}
