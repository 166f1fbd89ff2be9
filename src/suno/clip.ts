import { UpstreamError } from './upstream-error';

export type ClipStatus = 'submitted' | 'queued' | 'streaming' | 'complete' | 'error';

const STATUSES: readonly string[] = ['submitted', 'queued', 'streaming', 'complete', 'error'];

/** Spoken-warning marker that degraded accounts have been seen to get in their lyrics. */
const DEGRADED_MARKER = /this is a fake app/i;

/** A clip as the gateway reports it: null instead of empty strings, final audio only when complete. */
export interface Clip {
  id: string;
  status: ClipStatus;
  title: string | null;
  audio_url: string | null;
  stream_url: string | null;
  image_url: string | null;
  video_url: string | null;
  duration: number | null;
  model: string | null;
  tags: string | null;
  negative_tags: string | null;
  lyrics: string | null;
  gpt_description_prompt: string | null;
  type: string | null;
  created_at: string | null;
  error_message: string | null;
  suspect_degraded: boolean;
}

type Raw = Record<string, unknown>;

function text(value: unknown): string | null {
  return typeof value === 'string' && value.length > 0 ? value : null;
}

function mediaUrl(value: unknown): string | null {
  const url = text(value);

  return url && !/\/None\.(mp3|mp4|jpe?g)$/i.test(url) ? url : null;
}

/** Normalises one upstream clip; only a missing id makes it unusable. */
export function parseClip(raw: unknown, operation: string): Clip {
  if (!raw || typeof raw !== 'object' || typeof (raw as Raw).id !== 'string') {
    throw new UpstreamError({
      kind: 'bad_response',
      operation,
      host: 'studio',
      message: `${operation} returned a clip without an id`,
    });
  }
  const clip = raw as Raw;
  const meta = (clip.metadata && typeof clip.metadata === 'object' ? clip.metadata : {}) as Raw;
  const rawStatus = typeof clip.status === 'string' ? clip.status : '';
  // Unknown statuses are treated as still running: reporting them as done would lose songs.
  const status = (STATUSES.includes(rawStatus) ? rawStatus : 'queued') as ClipStatus;
  const audio = mediaUrl(clip.audio_url);
  const lyrics = text(meta.prompt);

  return {
    id: clip.id as string,
    status,
    title: text(clip.title),
    audio_url: status === 'complete' ? audio : null,
    stream_url: status === 'streaming' ? audio : null,
    image_url: mediaUrl(clip.image_url),
    video_url: status === 'complete' ? mediaUrl(clip.video_url) : null,
    duration:
      typeof meta.duration === 'number' && Number.isFinite(meta.duration) ? meta.duration : null,
    model: text(clip.model_name) ?? text(clip.major_model_version),
    tags: text(meta.tags),
    negative_tags: text(meta.negative_tags),
    lyrics,
    gpt_description_prompt: text(meta.gpt_description_prompt),
    type: text(meta.type),
    created_at: text(clip.created_at),
    error_message:
      status === 'error'
        ? (text(meta.error_message) ?? 'The upstream marked the clip as failed without a reason.')
        : null,
    suspect_degraded: lyrics !== null && DEGRADED_MARKER.test(lyrics),
  };
}

/** Reads clips from `[...]`, `{clips: [...]}` or a single clip; anything else is a bad response. */
export function parseClipList(body: unknown, operation: string): Clip[] {
  const list = Array.isArray(body) ? body : (body as { clips?: unknown } | null)?.clips;
  if (!Array.isArray(list)) {
    throw new UpstreamError({
      kind: 'bad_response',
      operation,
      host: 'studio',
      message: `${operation} returned no clip list`,
    });
  }

  return list.map((c) => parseClip(c, operation));
}

export function isTerminal(status: ClipStatus): boolean {
  return status === 'complete' || status === 'error';
}
