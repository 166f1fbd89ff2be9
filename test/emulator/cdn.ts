import { coverImage, songAudio } from './audio';
import { clipStatus, type ClipRecord } from './clips';
import type { Reply, RequestContext } from './http';

const NOT_FOUND: Reply = {
  status: 404,
  headers: { 'content-type': 'text/plain; charset=utf-8' },
  body: 'Not Found',
};

const AUDIO_HEADERS = {
  'content-type': 'audio/mpeg',
  'accept-ranges': 'bytes',
  'cache-control': 'public, max-age=31536000',
};

/**
 * `GET /cdn/<id>.mp3` (complete clips), `/cdn/image_<id>.jpeg` and `/cdn/image_large_<id>.jpeg`
 * (from streaming on). `/cdn/<id>.mp4` always returns 404 because no video is made, and so do
 * the `None.mp3` of errored clips and unknown ids. No authentication, like a public CDN.
 */
export function handleCdn(ctx: RequestContext): Reply {
  const name = ctx.params[0];
  const image = /^image_(?:large_)?(.+)\.jpe?g$/.exec(name);
  if (image) {
    const status = clipStatusById(ctx, image[1]);
    if (status !== 'streaming' && status !== 'complete') return NOT_FOUND;

    return {
      status: 200,
      headers: { 'content-type': 'image/png', 'cache-control': 'public, max-age=31536000' },
      body: coverImage(),
    };
  }

  const audio = /^(.+)\.mp3$/.exec(name);
  if (audio === null) return NOT_FOUND;
  const clip = ctx.state.clips.get(audio[1]);
  if (clip === undefined || clipStatus(clip, ctx.now) !== 'complete') return NOT_FOUND;

  return audioReply(ctx, clip);
}

/**
 * `GET /audiopipe/<id>` (or `/audiopipe/?item_id=<id>`, the upstream's form): the stream of a
 * clip that is streaming or complete. It returns the same bytes as the final file, with a
 * Content-Length, where the upstream streams chunks as they are made.
 */
export function handleAudiopipe(ctx: RequestContext): Reply {
  const id = ctx.params[0] ?? ctx.query.get('item_id') ?? '';
  const clip = ctx.state.clips.get(id);
  if (clip === undefined) return NOT_FOUND;

  const status = clipStatus(clip, ctx.now);
  if (status !== 'streaming' && status !== 'complete') return NOT_FOUND;

  return audioReply(ctx, clip);
}

function clipStatusById(ctx: RequestContext, id: string): string | null {
  const clip = ctx.state.clips.get(id);

  return clip === undefined ? null : clipStatus(clip, ctx.now);
}

/** The MP3 of the clip, or the byte range that a single-range `Range` header requests. */
function audioReply(ctx: RequestContext, clip: ClipRecord): Reply {
  const mp3 = songAudio(clip.audioSeconds).mp3;
  const range = parseRange(ctx.headers.range, mp3.length);
  if (range === 'ignore') {
    return { status: 200, headers: AUDIO_HEADERS, body: mp3 };
  }
  if (range === 'unsatisfiable') {
    return {
      status: 416,
      headers: { 'content-type': 'text/plain', 'content-range': `bytes */${mp3.length}` },
      body: 'Range Not Satisfiable',
    };
  }

  return {
    status: 206,
    headers: {
      ...AUDIO_HEADERS,
      'content-range': `bytes ${range.start}-${range.end}/${mp3.length}`,
    },
    body: mp3.subarray(range.start, range.end + 1),
  };
}

type RangeResult = { start: number; end: number } | 'ignore' | 'unsatisfiable';

/**
 * Parses `bytes=a-b`, `bytes=a-` and `bytes=-n`. Other forms, multiple ranges included, are
 * ignored and the whole file is sent, which HTTP allows a server to do.
 */
export function parseRange(header: string | undefined, length: number): RangeResult {
  const match = header === undefined ? null : /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (match === null || (match[1] === '' && match[2] === '')) return 'ignore';

  if (match[1] === '') {
    const suffix = Number(match[2]);
    if (suffix === 0) return 'unsatisfiable';

    return { start: Math.max(0, length - suffix), end: length - 1 };
  }

  const start = Number(match[1]);
  const end = match[2] === '' ? length - 1 : Math.min(Number(match[2]), length - 1);

  return start >= length || end < start ? 'unsatisfiable' : { start, end };
}
