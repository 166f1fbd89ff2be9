import { randomUUID } from 'node:crypto';
import {
  clipSettledAt,
  renderClip,
  STREAMING_AT,
  type ClipFailure,
  type ClipRecord,
  type HistoryEntry,
} from './clips';
import {
  codePointLength,
  detailReply,
  jsonReply,
  parseJsonObject,
  type Reply,
  type RequestContext,
} from './http';
import { generateLyrics } from './lyrics';
import { moderateGenerate } from './moderation';
import { DEFAULT_MODEL, findModel, majorVersionOf } from './models';
import { GENERATE_COST, type Account } from './state';

/** The fields of a generate body that the emulator uses; unknown fields are ignored. */
export interface GenerateRequest {
  prompt: string;
  gpt_description_prompt: string;
  tags: string;
  negative_tags: string;
  title: string;
  mv: string;
  make_instrumental: boolean;
  task: string | null;
  continue_clip_id: string | null;
  continue_at: number | null;
  token: string | null;
}

const STRING_FIELDS = [
  'prompt',
  'gpt_description_prompt',
  'tags',
  'negative_tags',
  'title',
  'mv',
  'task',
  'continue_clip_id',
  'token',
] as const;

// The checks of a FastAPI/pydantic endpoint: each wrongly typed field is one entry of `detail`.
function validationErrors(body: Record<string, unknown>): Record<string, unknown>[] {
  const errors: Record<string, unknown>[] = [];
  const report = (field: string, kind: string, what: string): void => {
    errors.push({
      type: kind,
      loc: ['body', field],
      msg: `Input should be a valid ${what}`,
      input: body[field],
    });
  };
  for (const field of STRING_FIELDS) {
    const value = body[field];
    if (value !== undefined && value !== null && typeof value !== 'string')
      report(field, 'string_type', 'string');
  }
  const continueAt = body.continue_at;
  if (continueAt !== undefined && continueAt !== null && typeof continueAt !== 'number') {
    report('continue_at', 'float_type', 'number');
  }
  const instrumental = body.make_instrumental;
  if (instrumental !== undefined && instrumental !== null && typeof instrumental !== 'boolean') {
    report('make_instrumental', 'bool_type', 'boolean');
  }

  return errors;
}

/** Parses a generate body, or returns the 422 the upstream sends for it. */
export function parseGenerateBody(
  text: string,
): { ok: true; request: GenerateRequest } | { ok: false; reply: Reply } {
  const parsed = parseJsonObject(text);
  if (!parsed.ok) return parsed;
  const { body } = parsed;
  const errors = validationErrors(body);
  if (errors.length > 0) return { ok: false, reply: jsonReply(422, { detail: errors }) };

  const textField = (key: string): string =>
    typeof body[key] === 'string' ? (body[key] as string) : '';
  const nullable = (key: string): string | null =>
    typeof body[key] === 'string' ? (body[key] as string) : null;
  const request: GenerateRequest = {
    prompt: textField('prompt'),
    gpt_description_prompt: textField('gpt_description_prompt'),
    tags: textField('tags'),
    negative_tags: textField('negative_tags'),
    title: textField('title'),
    mv: textField('mv') || DEFAULT_MODEL,
    make_instrumental: body.make_instrumental === true,
    task: nullable('task'),
    continue_clip_id: nullable('continue_clip_id'),
    continue_at: typeof body.continue_at === 'number' ? body.continue_at : null,
    token: nullable('token'),
  };

  return { ok: true, request };
}

/** Checks whether the account must send a captcha token with its next generate request. */
export function captchaGateOn(ctx: RequestContext, account: Account): boolean {
  const { captcha_required, captcha_after_generations } = ctx.state.config;

  return (
    captcha_required ||
    (captcha_after_generations !== null && account.generations >= captcha_after_generations)
  );
}

/**
 * Checks task consistency, the captcha gate, the plan's models, text lengths, the extended
 * clip, credits and running jobs, in that order, and returns the first rejection or null.
 * Body problems were already rejected by parseGenerateBody.
 */
function rejectGenerate(
  ctx: RequestContext,
  account: Account,
  request: GenerateRequest,
): Reply | null {
  const extending = request.task === 'extend';
  if ((request.continue_clip_id !== null) !== extending) {
    return detailReply(400, 'Inconsistent task and generation params');
  }
  if (captchaGateOn(ctx, account) && !request.token) {
    return detailReply(422, 'Token validation failed.');
  }
  if (account.plan === 'free' && findModel(request.mv)?.free === false) {
    return detailReply(400, 'Invalid request.');
  }
  // NOTE: these are the v4.5+ limits for every model, although billing info reports the
  // lower limits of older models (for example 200 code points of tags on chirp-v3-5).
  if (
    codePointLength(request.gpt_description_prompt) > 3000 ||
    codePointLength(request.prompt) > 5000 ||
    codePointLength(request.tags) > 1000
  ) {
    return detailReply(400, 'Prompt too long');
  }
  if (request.continue_clip_id !== null && !ctx.state.findClip(account, request.continue_clip_id)) {
    return detailReply(404, 'Clip not found');
  }
  ctx.state.settleRefunds(account, ctx.now);
  if (account.credits < GENERATE_COST) {
    return detailReply(402, 'Insufficient credits');
  }
  if (ctx.state.runningCount(account, ctx.now) >= ctx.state.config.running_job_cap) {
    return detailReply(429, 'Too many running jobs');
  }

  return null;
}

const SECOND_CLIP_FAILURE: ClipFailure = {
  type: 'internal',
  message: 'Something went wrong while generating this song. Please try again.',
};

/** `POST /api/generate/v2/` and `/api/generate/v2-web/`: two clips per accepted request. */
export function handleGenerate(ctx: RequestContext, account: Account): Reply {
  const parsed = parseGenerateBody(ctx.body);
  if (!parsed.ok) return parsed.reply;
  const { request } = parsed;
  const rejection = rejectGenerate(ctx, account, request);
  if (rejection) return rejection;

  const failure = moderateGenerate(ctx.state.config.blocked_words, request);
  const parent =
    request.continue_clip_id === null
      ? undefined
      : ctx.state.findClip(account, request.continue_clip_id);
  const history = parent ? extendHistory(parent, request.continue_at) : null;
  const batchId = randomUUID();
  const clips = [0, 1].map((index) => {
    const clipFailure =
      failure ?? (index === 1 && ctx.state.config.second_clip_fails ? SECOND_CLIP_FAILURE : null);

    return newClip(ctx, account, { request, batchId, index, failure: clipFailure, history });
  });

  chargeGenerate(ctx, account, clips);
  const options = { publicUrl: ctx.state.publicUrl, degraded: account.degraded };

  return jsonReply(200, {
    id: batchId,
    clips: clips.map((clip) => renderClip(clip, ctx.now, options)),
    metadata: {
      create_mode: request.prompt === '' ? 'simple' : 'custom',
      stream: true,
      task: request.task,
    },
    major_model_version: majorVersionOf(request.mv),
    status: 'complete',
    created_at: new Date(ctx.now).toISOString(),
    batch_size: 1,
  });
}

function chargeGenerate(ctx: RequestContext, account: Account, clips: ClipRecord[]): void {
  account.credits -= GENERATE_COST;
  account.monthlyUsage += GENERATE_COST;
  account.generations += 1;
  ctx.state.addClips(account, clips);
  account.running.push({
    batchId: clips[0].batchId,
    settledAt: Math.max(...clips.map(clipSettledAt)),
  });
  // Failed clips cost nothing: half the price per failed clip comes back when it turns `error`.
  const failed = clips.filter((clip) => clip.failure !== null);
  if (failed.length > 0) {
    account.pendingRefunds.push({
      at: ctx.now + STREAMING_AT * failed[0].generationMs,
      credits: (GENERATE_COST / clips.length) * failed.length,
    });
  }
}

/** Returns the parent's history plus the parent itself, so that a chain of extensions can be concatenated. */
function extendHistory(parent: ClipRecord, continueAt: number | null): HistoryEntry[] {
  return [...(parent.history ?? []), { id: parent.id, continue_at: continueAt, type: 'gen' }];
}

interface NewClipInput {
  request: GenerateRequest;
  batchId: string;
  index: number;
  failure: ClipFailure | null;
  history: HistoryEntry[] | null;
}

function newClip(ctx: RequestContext, account: Account, input: NewClipInput): ClipRecord {
  const { request } = input;
  const described = request.prompt === '';
  const generated = generateLyrics(described ? request.gpt_description_prompt : request.prompt);
  let lyrics = described ? generated.text : request.prompt;
  if (request.make_instrumental) lyrics = '';

  return {
    id: randomUUID(),
    accountId: account.id,
    batchId: input.batchId,
    batchIndex: input.index,
    createdAt: ctx.now,
    createdAtIso: new Date(ctx.now).toISOString(),
    generationMs: ctx.state.config.generation_s * 1000,
    audioSeconds: ctx.state.clipDurationS,
    type: 'gen',
    model: request.mv,
    title: request.title || generated.title,
    prompt: request.prompt,
    gptDescriptionPrompt: request.gpt_description_prompt,
    tags: request.tags,
    negativeTags: request.negative_tags,
    makeInstrumental: request.make_instrumental,
    task: request.task,
    lyrics,
    history: input.history,
    concatHistory: null,
    stemFromId: null,
    failure: input.failure,
  };
}
