import { randomUUID } from 'node:crypto';
import { songAudio } from './audio';
import { captchaGateOn } from './generate';
import { clipStatus, renderClip, type ClipRecord } from './clips';
import {
  detailReply,
  jsonReply,
  parseJsonObject,
  validationReply,
  type Reply,
  type RequestContext,
} from './http';
import { alignWords, generateLyrics, waveform } from './lyrics';
import { MODELS } from './models';
import { containsBlockedWord, LYRICS_MODERATION_MESSAGE } from './moderation';
import type { Account } from './state';

const PAGE_SIZE = 20;

function render(
  ctx: RequestContext,
  account: Account,
  clips: ClipRecord[],
): Record<string, unknown>[] {
  const options = { publicUrl: ctx.state.publicUrl, degraded: account.degraded };

  return clips.map((clip) => renderClip(clip, ctx.now, options));
}

/** The `ids` query parameter as a list, or null when absent. */
function idsParam(query: URLSearchParams): string[] | null {
  const raw = query.get('ids');
  if (raw === null) return null;

  return raw
    .split(',')
    .map((id) => id.trim())
    .filter((id) => id !== '');
}

function pageParam(query: URLSearchParams): number {
  const page = Number.parseInt(query.get('page') ?? '0', 10);

  return Number.isFinite(page) && page > 0 ? page : 0;
}

/** The account's clips among `ids`, in the order asked; unknown ids are left out. */
function clipsByIds(ctx: RequestContext, account: Account, ids: string[]): ClipRecord[] {
  const hideErrors = ctx.state.config.feed_hides_errors;
  const found: ClipRecord[] = [];
  for (const id of ids) {
    const clip = ctx.state.findClip(account, id);
    if (clip === undefined) continue;
    // Upstream quirk: the batch feed leaves out errored clips that /api/clip/{id} returns.
    if (hideErrors && clipStatus(clip, ctx.now) === 'error') continue;
    found.push(clip);
  }

  return found;
}

/** `limit` clips of the library, newest first, skipping the `offset` newest. */
function libraryPage(account: Account, offset: number, limit: number): ClipRecord[] {
  const page: ClipRecord[] = [];
  for (let i = account.library.length - 1 - offset; i >= 0 && page.length < limit; i -= 1) {
    page.push(account.library[i]);
  }

  return page;
}

/** `GET /api/feed/?ids=a,b`: a bare array; without ids, the library 20 per `page`. */
export function handleFeedV1(ctx: RequestContext, account: Account): Reply {
  const ids = idsParam(ctx.query);
  const clips =
    ids === null
      ? libraryPage(account, pageParam(ctx.query) * PAGE_SIZE, PAGE_SIZE)
      : clipsByIds(ctx, account, ids);

  return jsonReply(200, render(ctx, account, clips));
}

/** `GET /api/feed/v2?ids=a,b&page=N`: `{clips, num_total_results, current_page}`. */
export function handleFeedV2(ctx: RequestContext, account: Account): Reply {
  const ids = idsParam(ctx.query);
  const page = pageParam(ctx.query);
  const clips =
    ids === null
      ? libraryPage(account, page * PAGE_SIZE, PAGE_SIZE)
      : clipsByIds(ctx, account, ids);
  const total = ids === null ? account.library.length : clips.length;

  return jsonReply(200, {
    clips: render(ctx, account, clips),
    num_total_results: total,
    current_page: page,
  });
}

/**
 * `POST /api/feed/v3` `{cursor, limit, filters}`: a page of the library, newest first. The
 * cursor is an opaque base64url offset.
 */
export function handleFeedV3(ctx: RequestContext, account: Account): Reply {
  // An empty body asks for the first page, like `{}`.
  const parsed =
    ctx.body.trim() === '' ? { ok: true as const, body: {} } : parseJsonObject(ctx.body);
  if (!parsed.ok) return parsed.reply;
  const { body } = parsed;

  const offset = decodeCursor(body.cursor);
  if (offset === null) return detailReply(400, 'Invalid cursor');
  const limit =
    typeof body.limit === 'number' ? Math.min(100, Math.max(1, Math.floor(body.limit))) : PAGE_SIZE;
  // TODO: `filters` is accepted and ignored, because the upstream's filter format is unknown.
  const clips = libraryPage(account, offset, limit);
  const hasMore = offset + clips.length < account.library.length;

  return jsonReply(200, {
    clips: render(ctx, account, clips),
    next_cursor: hasMore ? Buffer.from(String(offset + clips.length)).toString('base64url') : null,
    has_more: hasMore,
  });
}

function decodeCursor(cursor: unknown): number | null {
  if (cursor === undefined || cursor === null || cursor === '') return 0;
  if (typeof cursor !== 'string') return null;
  const offset = Number(Buffer.from(cursor, 'base64url').toString('utf8'));

  return Number.isInteger(offset) && offset >= 0 ? offset : null;
}

/** `GET /api/clip/{id}`: one clip, errored ones included. */
export function handleClip(ctx: RequestContext, account: Account): Reply {
  const clip = ctx.state.findClip(account, ctx.params[0]);
  if (clip === undefined) return detailReply(404, 'Not found');

  return jsonReply(200, render(ctx, account, [clip])[0]);
}

/** `GET /api/billing/info/`: credits, plan and per-model limits of the account. */
export function handleBilling(ctx: RequestContext, account: Account): Reply {
  ctx.state.settleRefunds(account, ctx.now);
  const pro = account.plan === 'pro';
  const renewsOn = new Date(ctx.now + 30 * 24 * 3600 * 1000).toISOString().slice(0, 10);

  return jsonReply(200, {
    total_credits_left: account.credits,
    monthly_limit: pro ? 2500 : 50,
    monthly_usage: account.monthlyUsage,
    period: pro ? 'month' : null,
    is_active: pro,
    renews_on: pro ? renewsOn : null,
    cancel_on: null,
    plan: pro
      ? { id: 'plan_pro', name: 'Pro Plan', plan_key: 'pro', level: 10 }
      : { id: 'plan_free', name: 'Free Plan', plan_key: 'free', level: 0 },
    models: MODELS.map((model) => ({
      external_key: model.key,
      name: model.majorVersion,
      can_use: pro || model.free,
      max_lengths: model.maxLengths,
    })),
    credit_packs: [],
  });
}

/** `POST /api/generate/lyrics/` `{prompt}`: starts a lyrics job; free of credits. */
export function handleLyricsSubmit(ctx: RequestContext, account: Account): Reply {
  const parsed = parseJsonObject(ctx.body);
  if (!parsed.ok) return parsed.reply;
  const prompt = parsed.body.prompt;
  if (typeof prompt !== 'string') {
    return validationReply('missing', ['body', 'prompt'], 'Field required', parsed.body);
  }

  const blocked = containsBlockedWord(ctx.state.config.blocked_words, prompt);
  const lyrics = generateLyrics(prompt);
  const id = randomUUID();
  ctx.state.lyrics.set(id, {
    id,
    accountId: account.id,
    readyAt: ctx.now + ctx.state.config.lyrics_s * 1000,
    title: lyrics.title,
    text: lyrics.text,
    error: blocked ? LYRICS_MODERATION_MESSAGE : null,
  });

  return jsonReply(200, { id });
}

/** `GET /api/generate/lyrics/{id}`: `running` until `lyrics_s` have passed. */
export function handleLyricsGet(ctx: RequestContext, account: Account): Reply {
  const job = ctx.state.lyrics.get(ctx.params[0]);
  if (job === undefined || job.accountId !== account.id) return detailReply(404, 'Not found');

  if (ctx.now < job.readyAt) {
    return jsonReply(200, { id: job.id, text: '', title: '', status: 'running' });
  }
  if (job.error !== null) {
    return jsonReply(200, {
      id: job.id,
      text: '',
      title: '',
      status: 'error',
      error_message: job.error,
    });
  }

  return jsonReply(200, { id: job.id, text: job.text, title: job.title, status: 'complete' });
}

/** `GET /api/gen/{id}/aligned_lyrics/v2/`: word timings, empty until the clip is complete. */
export function handleAlignedLyrics(ctx: RequestContext, account: Account): Reply {
  const clip = ctx.state.findClip(account, ctx.params[0]);
  if (clip === undefined) return detailReply(404, 'Not found');

  if (clipStatus(clip, ctx.now) !== 'complete') {
    return jsonReply(200, { aligned_words: [], waveform_data: [], hoot_cer: 0.1 });
  }

  return jsonReply(200, {
    aligned_words: alignWords(clip.lyrics, songAudio(clip.audioSeconds).durationS),
    waveform_data: waveform(100),
    hoot_cer: 0.1,
  });
}

/** `POST /api/c/check` `{ctype}`: whether the next generate request needs a captcha token. */
export function handleCaptchaCheck(ctx: RequestContext, account: Account): Reply {
  return jsonReply(200, { required: captchaGateOn(ctx, account), captcha_version: 'turnstile' });
}
