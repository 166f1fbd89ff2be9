/**
 * Keys whose values are credentials wherever they appear, compared after lowercasing and
 * dropping `-` and `_`, so `Set-Cookie`, `set_cookie` and `setCookie` all match `setcookie`.
 */
const SECRET_KEYS = new Set([
  'authorization',
  'proxyauthorization',
  'cookie',
  'cookies',
  'setcookie',
  'jwt',
  'token',
  'accesstoken',
  'refreshtoken',
  'idtoken',
  'clienttoken',
  'sessiontoken',
  'lastactivetoken',
  'captchatoken',
  'sessionid',
  'sid',
  'apikey',
  'xapikey',
  'password',
  'secret',
  'clientsecret',
]);

export const REDACTED = '[REDACTED]';

/** Returns whether a field or header of this name contains a credential. */
export function isSecretKey(key: string): boolean {
  return SECRET_KEYS.has(key.toLowerCase().replace(/[-_]/g, ''));
}

/** Keys redacted by path, in the spellings that headers and bodies use. */
const PATH_KEYS = [
  'authorization',
  'Authorization',
  'proxy-authorization',
  'cookie',
  'Cookie',
  'set-cookie',
  'Set-Cookie',
  'jwt',
  'token',
  'client_token',
  'clientToken',
  'session_id',
  'sessionId',
  'sid',
  'api_key',
  'apiKey',
  'x-api-key',
  'password',
  'captcha_token',
];

/**
 * pino redaction paths for credentials: each key of PATH_KEYS at the top level and one or two
 * levels down (`req.headers.cookie`, `body.token`, `res.headers["set-cookie"]`). Deeper values
 * and secrets inside free text are caught by `redactDeep`, which runs on every line as well.
 */
export const REDACT_PATHS: string[] = PATH_KEYS.flatMap((key) => {
  const segment = /^[A-Za-z_$][\w$]*$/.test(key) ? `.${key}` : `["${key}"]`;
  const topLevel = segment.startsWith('.') ? key : segment;

  return [topLevel, `*${segment}`, `*.*${segment}`];
});

/** Values end at a quote or a backslash too, so the patterns can run over a serialised JSON line without breaking it. */
const SECRET_PATTERNS: Array<[RegExp, string]> = [
  // JWTs, which include Clerk's `__client` values and session tokens; the signature may be empty.
  [/eyJ[\w-]{4,}\.[\w-]{4,}\.[\w-]*/g, REDACTED],
  [/\b(__client\w*|__session\w*)=[^;\s,"\\]*/g, `$1=${REDACTED}`],
  [/\bsess_[A-Za-z0-9]{6,}/g, `sess_${REDACTED}`],
  [/\b(Bearer\s+)[^\s,;"\\]+/gi, `$1${REDACTED}`],
];

/** Masks credential-shaped substrings (JWTs, Clerk cookies, `sess_` ids, bearer tokens) in free text. */
export function scrubSecrets(text: string): string {
  let out = text;
  for (const [pattern, replacement] of SECRET_PATTERNS) {
    out = out.replace(pattern, replacement);
  }

  return out;
}

/** Nesting below which `redactDeep` stops copying and writes a placeholder. */
const MAX_DEPTH = 8;

/**
 * Returns a copy of a log object in which the values of secret keys are `[REDACTED]`, strings
 * are passed through `scrubSecrets` and errors become plain objects via `serializeError`, at
 * any depth. Cycles and nesting past 8 levels are replaced by placeholders, so the copy is
 * always serialisable.
 */
export function redactDeep(
  value: unknown,
  serializeError: (err: Error) => unknown,
  depth = 0,
  seen = new WeakSet<object>(),
): unknown {
  if (typeof value === 'string') return scrubSecrets(value);
  if (value === null || typeof value !== 'object') return value;
  if (value instanceof Date) return value;
  if (value instanceof Error) return serializeError(value);
  if (seen.has(value)) return '[Circular]';
  if (depth >= MAX_DEPTH) return '[Nested too deep]';
  seen.add(value);

  let copy: unknown;
  if (Array.isArray(value)) {
    copy = value.map((item) => redactDeep(item, serializeError, depth + 1, seen));
  } else if (Buffer.isBuffer(value)) {
    copy = `[Buffer of ${value.length} bytes]`;
  } else {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      out[key] =
        isSecretKey(key) && item !== undefined && item !== null
          ? REDACTED
          : redactDeep(item, serializeError, depth + 1, seen);
    }
    copy = out;
  }
  seen.delete(value);

  return copy;
}
