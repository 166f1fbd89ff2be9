import { Injectable } from '@nestjs/common';
import { Account } from '../session/account';
import { Clip, parseClip, parseClipList } from './clip';
import { SunoClient } from './suno-client.service';
import { UpstreamError } from './upstream-error';

export interface GeneratePayload {
  prompt: string;
  gpt_description_prompt?: string;
  tags?: string;
  negative_tags?: string;
  title?: string;
  mv: string;
  make_instrumental: boolean;
  generation_type: 'TEXT';
  continue_clip_id?: string;
  continue_at?: number;
  task?: 'extend';
  token?: string | null;
}

export interface GenerateResult {
  batchId: string | null;
  clips: Clip[];
}

export interface Billing {
  credits_left: number | null;
  period: string | null;
  monthly_limit: number | null;
  monthly_usage: number | null;
}

export interface LyricsResult {
  text: string | null;
  title: string | null;
  status: string;
  error_message: string | null;
}

export interface AlignedWord {
  word: string;
  start_s: number;
  end_s: number;
  success: boolean;
  p_align: number | null;
}

function num(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

function str(value: unknown): string | null {
  return typeof value === 'string' && value.length > 0 ? value : null;
}

const EMPTY_GENERATE = 'generate returned an empty clip list';

/** True for the failure of a generate that returned 2xx with no clips. */
export function isEmptyGenerate(err: unknown): err is UpstreamError {
  return (
    err instanceof UpstreamError &&
    err.kind === 'bad_response' &&
    err.operation === 'generate' &&
    err.message === EMPTY_GENERATE
  );
}

function badResponse(operation: string, message: string): UpstreamError {
  return new UpstreamError({ kind: 'bad_response', operation, host: 'studio', message });
}

/** Typed studio operations with tolerant parsing: unknown fields ignored, missing ones null. */
@Injectable()
export class StudioApi {
  constructor(private readonly client: SunoClient) {}

  async generate(account: Account, payload: GeneratePayload): Promise<GenerateResult> {
    const res = await this.client.call({
      account,
      operation: 'generate',
      opClass: 'submit',
      method: 'POST',
      path: '/api/generate/v2/',
      body: payload,
    });
    const clips = parseClipList(res.body, 'generate');
    if (clips.length === 0) throw badResponse('generate', EMPTY_GENERATE);

    return { batchId: str((res.body as { id?: unknown }).id), clips };
  }

  async concat(account: Account, clipId: string): Promise<Clip> {
    const res = await this.client.call({
      account,
      operation: 'concat',
      opClass: 'submit',
      method: 'POST',
      path: '/api/generate/concat/v2/',
      body: { clip_id: clipId },
    });
    const body = res.body as { clips?: unknown };

    return Array.isArray(body?.clips)
      ? parseClipList(body, 'concat')[0]
      : parseClip(res.body, 'concat');
  }

  async feed(account: Account, ids: string[]): Promise<Clip[]> {
    const query = new URLSearchParams({ ids: ids.join(',') });
    const res = await this.client.call({
      account,
      operation: 'feed',
      opClass: 'read',
      method: 'GET',
      path: `/api/feed/v2?${query}`,
    });

    return parseClipList(res.body, 'feed');
  }

  /** The account's newest clips, newest first; used to reconcile after an ambiguous submit. */
  async recent(account: Account, page: number): Promise<Clip[]> {
    const res = await this.client.call({
      account,
      operation: 'feed',
      opClass: 'read',
      method: 'GET',
      path: `/api/feed/v2?page=${page}`,
    });

    return parseClipList(res.body, 'feed');
  }

  async clip(account: Account, id: string): Promise<Clip> {
    const res = await this.client.call({
      account,
      operation: 'clip',
      opClass: 'read',
      method: 'GET',
      path: `/api/clip/${encodeURIComponent(id)}`,
    });

    return parseClip(res.body, 'clip');
  }

  async billing(account: Account): Promise<Billing> {
    const res = await this.client.call({
      account,
      operation: 'billing',
      opClass: 'read',
      method: 'GET',
      path: '/api/billing/info/',
    });
    const body = res.body as Record<string, unknown>;
    if (!body || typeof body !== 'object' || Array.isArray(body))
      throw badResponse('billing', 'billing returned no object');

    return {
      credits_left: num(body.total_credits_left) ?? num(body.credits_left),
      period: str(body.period),
      monthly_limit: num(body.monthly_limit),
      monthly_usage: num(body.monthly_usage),
    };
  }

  async submitLyrics(account: Account, prompt: string): Promise<string> {
    const res = await this.client.call({
      account,
      operation: 'lyrics_submit',
      opClass: 'submit',
      method: 'POST',
      path: '/api/generate/lyrics/',
      body: { prompt },
    });
    const id = str((res.body as { id?: unknown } | null)?.id);
    if (!id) throw badResponse('lyrics_submit', 'lyrics submit returned no id');

    return id;
  }

  async lyrics(account: Account, id: string): Promise<LyricsResult> {
    const res = await this.client.call({
      account,
      operation: 'lyrics_get',
      opClass: 'read',
      method: 'GET',
      path: `/api/generate/lyrics/${encodeURIComponent(id)}`,
    });
    const body = res.body as Record<string, unknown>;
    if (!body || typeof body !== 'object')
      throw badResponse('lyrics_get', 'lyrics returned no object');

    return {
      text: str(body.text),
      title: str(body.title),
      status: str(body.status) ?? 'running',
      error_message: str(body.error_message),
    };
  }

  async alignedLyrics(account: Account, clipId: string): Promise<AlignedWord[]> {
    const res = await this.client.call({
      account,
      operation: 'aligned_lyrics',
      opClass: 'read',
      method: 'GET',
      path: `/api/gen/${encodeURIComponent(clipId)}/aligned_lyrics/v2/`,
    });
    const words = (res.body as { aligned_words?: unknown } | null)?.aligned_words;
    if (!Array.isArray(words))
      throw badResponse('aligned_lyrics', 'aligned lyrics returned no aligned_words list');

    return words.map((w: Record<string, unknown>) => ({
      word: typeof w?.word === 'string' ? w.word : '',
      start_s: num(w?.start_s) ?? 0,
      end_s: num(w?.end_s) ?? 0,
      success: w?.success === true,
      p_align: num(w?.p_align),
    }));
  }

  async captchaRequired(account: Account): Promise<boolean> {
    const res = await this.client.call({
      account,
      operation: 'captcha_check',
      opClass: 'read',
      method: 'POST',
      path: '/api/c/check',
      body: { ctype: 'generation' },
    });

    return (res.body as { required?: unknown } | null)?.required === true;
  }
}
