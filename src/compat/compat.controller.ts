import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AppError } from '../common/app-error';
import { ErrorCode } from '../common/error-codes';
import { CreditsService } from '../account/credits.service';
import { ClipsService } from '../generation/clips.service';
import { GenerationService } from '../generation/generation.service';
import { LyricsService } from '../lyrics/lyrics.service';
import {
  CompatCustomGenerateDto,
  CompatDescriptionGenerateDto,
  CompatIdsParamDto,
  CompatLyricsDto,
  CompatSessionQueryDto,
} from './compat.dto';
import { toUpstreamBatch, toUpstreamClip } from './compat-shapes';
import { LyricsIdParamDto } from '../lyrics/dto/lyrics.dto';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const NO_WAIT = { wait: false };

/** Routes of the original Python Suno-API, so its users can switch by changing the URL. */
@ApiTags('compat')
@ApiBearerAuth()
@Controller()
export class CompatController {
  constructor(
    private readonly generations: GenerationService,
    private readonly clips: ClipsService,
    private readonly lyrics: LyricsService,
    private readonly credits: CreditsService,
  ) {}

  @Get()
  @ApiOperation({
    summary: 'Liveness answer of the original API: {code: 0, msg: "success", data: null}.',
  })
  root() {
    return { code: 0, msg: 'success', data: null };
  }

  @Post('generate')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Custom mode generate (compat); with continue_clip_id it extends that clip.',
  })
  async generate(@Body() body: CompatCustomGenerateDto) {
    const mv = body.mv ?? 'chirp-v3-5';
    if (body.continue_clip_id) {
      const answer = await this.generations.extend(
        body.continue_clip_id,
        {
          continue_at: body.continue_at ?? 0,
          prompt: body.prompt,
          title: body.title,
          tags: body.tags,
          mv,
        },
        NO_WAIT,
      );

      return toUpstreamBatch(answer.body);
    }
    const answer = await this.generations.create(
      { prompt: body.prompt, title: body.title, tags: body.tags, mv },
      NO_WAIT,
    );

    return toUpstreamBatch(answer.body);
  }

  @Post('generate/description-mode')
  @HttpCode(200)
  @ApiOperation({ summary: 'Description mode generate (compat).' })
  async describe(@Body() body: CompatDescriptionGenerateDto) {
    const answer = await this.generations.create(
      {
        gpt_description_prompt: body.gpt_description_prompt,
        make_instrumental: body.make_instrumental,
        mv: body.mv ?? 'chirp-v3-5',
      },
      NO_WAIT,
    );

    return toUpstreamBatch(answer.body);
  }

  @Get('feed/:ids')
  @ApiOperation({ summary: 'Clips by comma-separated ids, as a bare array (compat).' })
  async feed(@Param() params: CompatIdsParamDto, @Query() _query: CompatSessionQueryDto) {
    const ids = params.ids
      .split(',')
      .map((i) => i.trim())
      .filter((i) => i.length > 0);
    if (ids.length === 0 || ids.length > 50 || ids.some((i) => !UUID.test(i))) {
      throw new AppError({
        status: 400,
        code: ErrorCode.ValidationFailed,
        detail: 'ids must be 1 to 50 comma-separated clip UUIDs.',
        extra: { errors: [{ field: 'ids', message: 'must be comma-separated UUIDs' }] },
      });
    }
    const view = await this.clips.many(ids);

    return view.clips.map(toUpstreamClip);
  }

  @Post('generate/lyrics')
  @HttpCode(200)
  @ApiOperation({ summary: 'Submit a lyrics job (compat): returns {id}.' })
  async generateLyrics(@Body() body: CompatLyricsDto) {
    const view = await this.lyrics.create(body.prompt, NO_WAIT);

    return { id: view.id };
  }

  @Get('lyrics/:id')
  @ApiOperation({ summary: 'Read a lyrics job (compat): {text, title, status}.' })
  async getLyrics(@Param() params: LyricsIdParamDto, @Query() _query: CompatSessionQueryDto) {
    const view = await this.lyrics.get(params.id, NO_WAIT);

    return { text: view.text ?? '', title: view.title ?? '', status: view.status };
  }

  @Get('get_credits')
  @ApiOperation({
    summary: 'Credits (compat): {credits_left, period, monthly_limit, monthly_usage}.',
  })
  async getCredits(@Query() _query: CompatSessionQueryDto) {
    const credits = await this.credits.credits();

    return {
      credits_left: credits.credits_left,
      period: credits.period,
      monthly_limit: credits.monthly_limit,
      monthly_usage: credits.monthly_usage,
    };
  }
}
