import { songAudio } from './audio';
import { majorVersionOf } from './models';

export type ClipStatus = 'submitted' | 'queued' | 'streaming' | 'complete' | 'error';

/** One step of `metadata.history` or `metadata.concat_history`. */
export interface HistoryEntry {
  id: string;
  continue_at: number | null;
  type: 'gen';
}

/** Reason a clip ends in `error`. The clip turns `error` when it would leave `queued`. */
export interface ClipFailure {
  type: string;
  message: string;
}

export interface ClipRecord {
  readonly id: string;
  readonly accountId: string;
  readonly batchId: string;
  readonly batchIndex: number;
  readonly createdAt: number;
  readonly createdAtIso: string;
  /** Milliseconds from submit to `complete`, fixed at submit so config changes do not move it. */
  readonly generationMs: number;
  /** Requested song length in seconds. The real length comes from the encoded MP3. */
  readonly audioSeconds: number;
  readonly type: 'gen' | 'concat';
  readonly model: string;
  readonly title: string;
  readonly prompt: string;
  readonly gptDescriptionPrompt: string;
  readonly tags: string;
  readonly negativeTags: string;
  readonly makeInstrumental: boolean;
  readonly task: string | null;
  /** Lyrics shown once streaming: the prompt in custom mode, generated text in description mode. */
  readonly lyrics: string;
  readonly history: HistoryEntry[] | null;
  readonly concatHistory: HistoryEntry[] | null;
  readonly stemFromId: string | null;
  readonly failure: ClipFailure | null;
}

// Fractions of the generation time at which a clip leaves `submitted` and `queued`.
export const QUEUED_AT = 0.1;
export const STREAMING_AT = 0.35;

/** Computes the status from the elapsed time, so no timer runs per clip. */
export function clipStatus(clip: ClipRecord, now: number): ClipStatus {
  const elapsed = now - clip.createdAt;
  if (elapsed < QUEUED_AT * clip.generationMs) return 'submitted';
  if (elapsed < STREAMING_AT * clip.generationMs) return 'queued';
  if (clip.failure !== null) return 'error';

  return elapsed < clip.generationMs ? 'streaming' : 'complete';
}

/** Time in ms since the epoch at which the clip reaches `complete` or `error`. */
export function clipSettledAt(clip: ClipRecord): number {
  const fraction = clip.failure === null ? 1 : STREAMING_AT;

  return clip.createdAt + fraction * clip.generationMs;
}

export interface RenderOptions {
  publicUrl: string;
  /** Marks the lyrics of complete clips the way the upstream does for accounts flagged as bots. */
  degraded: boolean;
}

export const DEGRADED_MARKER = 'This is a fake app. ';

/** Builds the upstream's JSON clip object as it looks at time `now`. */
export function renderClip(
  clip: ClipRecord,
  now: number,
  options: RenderOptions,
): Record<string, unknown> {
  const status = clipStatus(clip, now);

  return {
    id: clip.id,
    title: clip.title,
    status,
    ...clipUrls(clip, status, options.publicUrl),
    model_name: clip.model,
    major_model_version: majorVersionOf(clip.model),
    created_at: clip.createdAtIso,
    is_public: false,
    batch_index: clip.batchIndex,
    metadata: renderMetadata(clip, status, options.degraded),
    // Extra fields, as the upstream adds new ones often, so that clients must ignore unknown fields.
    play_count: 0,
    upvote_count: 0,
    reaction: null,
    display_name: 'emulator',
  };
}

function clipUrls(clip: ClipRecord, status: ClipStatus, base: string): Record<string, unknown> {
  switch (status) {
    case 'submitted':
    case 'queued':
      return { audio_url: '', video_url: '', image_url: null, image_large_url: null };
    case 'error':
      // The upstream formats a missing file name as Python's None.
      return {
        audio_url: `${base}/cdn/None.mp3`,
        video_url: '',
        image_url: null,
        image_large_url: null,
      };
    case 'streaming':
      return {
        audio_url: `${base}/audiopipe/${clip.id}`,
        video_url: '',
        image_url: `${base}/cdn/image_${clip.id}.jpeg`,
        image_large_url: `${base}/cdn/image_large_${clip.id}.jpeg`,
      };
    case 'complete':
      return {
        audio_url: `${base}/cdn/${clip.id}.mp3`,
        video_url: `${base}/cdn/${clip.id}.mp4`,
        image_url: `${base}/cdn/image_${clip.id}.jpeg`,
        image_large_url: `${base}/cdn/image_large_${clip.id}.jpeg`,
      };
    default:
      return assertNever(status);
  }
}

function renderMetadata(
  clip: ClipRecord,
  status: ClipStatus,
  degraded: boolean,
): Record<string, unknown> {
  const complete = status === 'complete';

  return {
    prompt: visibleLyrics(clip, status, degraded),
    gpt_description_prompt: clip.gptDescriptionPrompt,
    tags: clip.tags,
    negative_tags: clip.negativeTags,
    type: clip.type,
    task: clip.task,
    duration: complete ? songAudio(clip.audioSeconds).durationS : null,
    stream: true,
    error_type: status === 'error' ? clip.failure?.type : null,
    error_message: status === 'error' ? clip.failure?.message : null,
    history: clip.history,
    concat_history: clip.concatHistory,
    stem_from_id: clip.stemFromId,
    refund_credits: status === 'error',
    make_instrumental: clip.makeInstrumental,
  };
}

function visibleLyrics(clip: ClipRecord, status: ClipStatus, degraded: boolean): string {
  // Description-mode lyrics do not exist until the model starts producing audio, and never
  // for a clip that failed.
  const pending = status === 'submitted' || status === 'queued' || status === 'error';
  const lyrics = pending ? clip.prompt : clip.lyrics;

  return degraded && status === 'complete' ? DEGRADED_MARKER + lyrics : lyrics;
}

export function assertNever(value: never): never {
  throw new Error(`Internal error: unexpected value ${String(value)} in an exhaustive switch`);
}
