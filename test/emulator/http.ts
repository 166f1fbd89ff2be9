import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { EmulatorState } from './state';

/** Route names used by stats and by the `match` field of faults. */
export const ROUTE_NAMES = [
  'clerk_client',
  'clerk_token',
  'generate',
  'feed',
  'clip',
  'billing',
  'lyrics_submit',
  'lyrics_get',
  'concat',
  'stems',
  'aligned_lyrics',
  'captcha_check',
  'audio',
] as const;

export type RouteName = (typeof ROUTE_NAMES)[number];

/** Name under which requests to paths that no route serves are counted. */
export const UNKNOWN_ROUTE = 'unknown';

export type HeaderMap = Record<string, string | string[]>;

/** A complete response, built before anything is written so a fault can still drop it. */
export interface Reply {
  status: number;
  headers: HeaderMap;
  body: string | Buffer;
}

export interface RequestContext {
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  /** Captured path segments of the matched route, such as a clip id. */
  readonly params: readonly string[];
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  /** Request time in ms since the epoch. One value per request keeps a clip's status stable. */
  readonly now: number;
  readonly state: EmulatorState;
}

export type Handler = (ctx: RequestContext) => Reply;

export function jsonReply(status: number, value: unknown, headers: HeaderMap = {}): Reply {
  return {
    status,
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(value),
  };
}

/** Builds a FastAPI-style error, `{"detail": message}`. */
export function detailReply(status: number, message: string): Reply {
  return jsonReply(status, { detail: message });
}

/**
 * Builds a FastAPI request-validation error: 422 with one entry in the `detail` list, where
 * `loc` names the body field, such as `['body', 'prompt']`.
 */
export function validationReply(
  type: string,
  loc: (string | number)[],
  msg: string,
  input: unknown = null,
): Reply {
  return jsonReply(422, { detail: [{ type, loc, msg, input }] });
}

export type ParsedBody = { ok: true; body: Record<string, unknown> } | { ok: false; reply: Reply };

/** Parses a JSON object body, or returns the 422 that FastAPI sends when that fails. */
export function parseJsonObject(text: string): ParsedBody {
  if (text.trim() === '') {
    return { ok: false, reply: validationReply('missing', ['body'], 'Field required') };
  }

  const parsed = parseJson(text);
  if (!parsed.ok) {
    const detail = [
      {
        type: 'json_invalid',
        loc: ['body'],
        msg: 'JSON decode error',
        input: {},
        ctx: { error: parsed.error },
      },
    ];
    return { ok: false, reply: jsonReply(422, { detail }) };
  }
  const value = parsed.value;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return {
      ok: false,
      reply: validationReply('dict_type', ['body'], 'Input should be a valid dictionary', value),
    };
  }

  return { ok: true, body: value as Record<string, unknown> };
}

export const MAX_BODY_BYTES = 1024 * 1024;

export class BodyTooLarge extends Error {}

/**
 * Reads the whole request body as UTF-8. Past MAX_BODY_BYTES it drops the data but reads on
 * to the end, so that the 413 response can still be sent, then rejects with BodyTooLarge.
 */
export function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    req.on('end', () => {
      if (size > MAX_BODY_BYTES) {
        reject(new BodyTooLarge(`request body of ${size} bytes exceeds ${MAX_BODY_BYTES} bytes`));
        return;
      }
      resolve(Buffer.concat(chunks).toString('utf8'));
    });
    req.on('error', reject);
  });
}

export type JsonParse = { ok: true; value: unknown } | { ok: false; error: string };

export function parseJson(text: string): JsonParse {
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (error) {
    return { ok: false, error: (error as Error).message };
  }
}

/** Returns the value of cookie `name` in a Cookie header, without surrounding quotes. */
export function cookieValue(header: string, name: string): string | undefined {
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq !== -1 && part.slice(0, eq).trim() === name) {
      return part
        .slice(eq + 1)
        .trim()
        .replace(/^"(.*)"$/, '$1');
    }
  }

  return undefined;
}

/** Counts Unicode code points, the unit of the upstream's length limits. */
export function codePointLength(text: string): number {
  let surrogatePairs = 0;
  for (let i = 0; i < text.length; i += 1) {
    const code = text.charCodeAt(i);
    if (code >= 0xd800 && code <= 0xdbff) surrogatePairs += 1;
  }

  return text.length - surrogatePairs;
}
