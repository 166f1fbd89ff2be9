import { Inject, Injectable } from '@nestjs/common';
import { AppError } from '../common/app-error';
import { ErrorCode } from '../common/error-codes';
import { requestContext } from '../common/request-context';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { MetricsService } from '../observability/metrics.service';
import { withSpan } from '../observability/tracing';
import { Attr } from '../observability/span-attributes';
import { AccountsService } from '../session/accounts.service';
import { Account } from '../session/account';
import { Clip } from '../suno/clip';
import { StudioApi, GeneratePayload, isEmptyGenerate } from '../suno/studio.api';
import { GENERATE_COST } from '../account/credits.service';
import { ClipWatcher } from './clip-watcher';
import { CreateGenerationDto, ExtendClipDto, WaitQueryDto } from './dto/generation.dto';
import {
  Generation,
  GenerationView,
  generationStatus,
  isFinished,
  viewGeneration,
} from './generation';
import { GenerationStore } from './generation.store';
import { DEFAULT_MODEL, checkLengths } from './model-limits';
import { Submitter } from './submitter';

export interface GenerationAnswer {
  /** 200 when finished, 202 while still running. */
  httpStatus: 200 | 202;
  body: GenerationView;
}

/** Creates, extends and concatenates songs, and waits for them within a bounded budget. */
@Injectable()
export class GenerationService {
  constructor(
    private readonly studio: StudioApi,
    private readonly submitter: Submitter,
    private readonly store: GenerationStore,
    private readonly watcher: ClipWatcher,
    private readonly accounts: AccountsService,
    private readonly metrics: MetricsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async create(dto: CreateGenerationDto, wait: WaitQueryDto): Promise<GenerationAnswer> {
    const description = dto.gpt_description_prompt;
    const customFields = (['prompt', 'title', 'tags', 'negative_tags'] as const).filter(
      (f) => dto[f],
    );
    if (description && customFields.length > 0) {
      // Upstream would silently drop the custom fields and still charge for the songs.
      throw new AppError({
        status: 400,
        code: ErrorCode.ValidationFailed,
        detail: `Choose one mode: gpt_description_prompt (description mode) cannot be combined with ${customFields.join(', ')} (custom mode).`,
        extra: {
          errors: customFields.map((field) => ({
            field,
            message: 'not allowed together with gpt_description_prompt',
          })),
        },
      });
    }
    if (
      !description &&
      (dto.prompt === undefined || dto.prompt === null) &&
      !dto.make_instrumental
    ) {
      throw new AppError({
        status: 400,
        code: ErrorCode.ValidationFailed,
        detail: 'Send prompt (lyrics, custom mode) or gpt_description_prompt (description mode).',
        extra: {
          errors: [{ field: 'prompt', message: 'prompt or gpt_description_prompt is required' }],
        },
      });
    }
    const mv = dto.mv ?? DEFAULT_MODEL;
    checkLengths(mv, {
      prompt: dto.prompt,
      tags: dto.tags,
      negative_tags: dto.negative_tags,
      title: dto.title,
      gpt_description_prompt: description,
    });
    const payload: GeneratePayload = description
      ? {
          prompt: '',
          gpt_description_prompt: description,
          mv,
          make_instrumental: dto.make_instrumental ?? false,
          generation_type: 'TEXT',
          token: dto.captcha_token ?? null,
        }
      : {
          prompt: dto.prompt ?? '',
          tags: dto.tags ?? '',
          negative_tags: dto.negative_tags ?? '',
          title: dto.title ?? '',
          mv,
          make_instrumental: dto.make_instrumental ?? false,
          generation_type: 'TEXT',
          token: dto.captcha_token ?? null,
        };
    const generation = await this.submitter.submit({
      kind: description ? 'description' : 'custom',
      fingerprint: {
        prompt: payload.prompt || null,
        gpt_description_prompt: description ?? null,
        tags: payload.tags || null,
        title: payload.title || null,
      },
      hasCaptchaToken: Boolean(dto.captcha_token),
      send: (account) => this.generateOn(account, payload),
    });

    return this.answer(generation, wait);
  }

  async extend(clipId: string, dto: ExtendClipDto, wait: WaitQueryDto): Promise<GenerationAnswer> {
    const mv = dto.mv ?? DEFAULT_MODEL;
    checkLengths(mv, { prompt: dto.prompt, tags: dto.tags, title: dto.title });
    const owner = this.store.byClipId(clipId);
    const preferred = owner ? this.accounts.get(owner.accountId) : undefined;
    const payload: GeneratePayload = {
      prompt: dto.prompt ?? '',
      tags: dto.tags ?? '',
      negative_tags: dto.negative_tags ?? '',
      title: dto.title ?? '',
      mv,
      make_instrumental: false,
      generation_type: 'TEXT',
      task: 'extend',
      continue_clip_id: clipId,
      continue_at: dto.continue_at,
      token: dto.captcha_token ?? null,
    };
    const generation = await this.submitter.submit(
      {
        kind: 'extend',
        fingerprint: {
          prompt: payload.prompt || null,
          gpt_description_prompt: null,
          tags: payload.tags || null,
          title: payload.title || null,
        },
        hasCaptchaToken: Boolean(dto.captcha_token),
        send: (account) => this.generateOn(account, payload),
      },
      preferred,
    );

    return this.answer(generation, wait);
  }

  async concat(clipId: string, wait: WaitQueryDto): Promise<GenerationAnswer> {
    const owner = this.store.byClipId(clipId);
    const preferred = owner ? this.accounts.get(owner.accountId) : undefined;
    const generation = await this.submitter.submit(
      {
        kind: 'concat',
        fingerprint: { prompt: null, gpt_description_prompt: null, tags: null, title: null },
        send: async (account) => [await this.studio.concat(account, clipId)],
      },
      preferred,
    );

    return this.answer(generation, wait);
  }

  /**
   * Sends one generate. An account out of credits has been seen to get 200 with no clips
   * instead of 402, so an empty response is checked against billing and then reported as 402.
   */
  private async generateOn(account: Account, payload: GeneratePayload): Promise<Clip[]> {
    try {
      return (await this.studio.generate(account, payload)).clips;
    } catch (err) {
      if (!isEmptyGenerate(err)) throw err;
      const billing = await this.studio.billing(account).catch(() => undefined);
      const left = billing?.credits_left;
      if (left === undefined || left === null || left >= GENERATE_COST) throw err;
      throw new AppError({
        status: 402,
        code: ErrorCode.InsufficientCredits,
        detail: `The upstream created no songs, and billing shows ${left} credits left on account ${account.id}.`,
        upstreamStatus: 200,
        cause: err,
      });
    }
  }

  async get(id: string, wait: WaitQueryDto): Promise<GenerationAnswer> {
    const generation = this.store.get(id);
    if (!generation) {
      throw new AppError({
        status: 404,
        code: ErrorCode.NotFound,
        detail: `No generation ${id} is known to this gateway; generations are kept in memory for 24 h or until restart.`,
      });
    }

    return this.answer(generation, wait);
  }

  private async answer(generation: Generation, wait: WaitQueryDto): Promise<GenerationAnswer> {
    if (wait.wait) await this.waitFor(generation, wait);
    const status = generationStatus(generation);
    if (wait.wait && status === 'error') throw rejected(generation);

    return { httpStatus: isFinished(status) ? 200 : 202, body: viewGeneration(generation) };
  }

  private waitFor(generation: Generation, wait: WaitQueryDto): Promise<void> {
    const { waitBudgetMs, maxWaitBudgetMs } = this.config.generation;
    const budgetMs = Math.min(
      wait.timeout_s !== undefined ? wait.timeout_s * 1000 : waitBudgetMs,
      maxWaitBudgetMs,
    );
    const target = wait.wait_for ?? 'complete';
    const reached = (g: Generation) => {
      const status = generationStatus(g);
      if (isFinished(status)) return true;

      return (
        target === 'streaming' &&
        g.clips.length > 0 &&
        g.clips.every(
          (c) => c.status === 'streaming' || c.status === 'complete' || c.status === 'error',
        )
      );
    };
    const ctx = requestContext.get();
    if (ctx) ctx.deadlineMs = Date.now() + budgetMs;

    return withSpan(
      'generation.wait',
      { attributes: { [Attr.generationId]: generation.id, 'suno.wait.budget_ms': budgetMs } },
      async (span) => {
        const started = Date.now();
        this.metrics.m.inflightWaits.inc();
        try {
          const done = await this.watcher.waitUntil(generation, reached, budgetMs);
          span.setAttribute('suno.wait.result', done ? 'done' : 'budget_exhausted');
          this.metrics.m.generationWaitDuration.observe(
            { result: done ? 'done' : 'budget_exhausted' },
            (Date.now() - started) / 1000,
          );
        } finally {
          this.metrics.m.inflightWaits.dec();
        }
      },
    );
  }
}

function rejected(generation: Generation): AppError {
  const messages = [
    ...new Set(generation.clips.map((c) => c.error_message).filter((m): m is string => Boolean(m))),
  ];

  return new AppError({
    status: 422,
    code: ErrorCode.ContentRejected,
    detail: `The upstream rejected the generation: ${messages.join(' ') || 'no reason given'}`,
    extra: { generation_id: generation.id, generation: viewGeneration(generation) },
  });
}
