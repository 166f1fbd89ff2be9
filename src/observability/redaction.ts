/**
 * Log paths whose values are credentials. pino replaces them before the line is serialised,
 * wherever they appear in headers or bodies.
 */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  'headers.authorization',
  'headers.cookie',
  'headers["set-cookie"]',
  '*.authorization',
  '*.Authorization',
  '*.cookie',
  '*.Cookie',
  '*["set-cookie"]',
  '*.jwt',
  '*.token',
  '*.session_id',
  '*.sessionId',
  '*.client_token',
  '*.clientToken',
  '*.api_key',
  '*.apiKey',
  'config.headers',
  'err.config',
  'err.request',
  'err.response',
];

const SECRET_PATTERNS: Array<[RegExp, string]> = [
  [/eyJ[\w-]{4,}\.[\w-]{4,}\.[\w-]{4,}/g, '[REDACTED]'], // JWTs, including __client values
  [/(__client(?:_\w+)?|__session|__client_uat)=[^;\s]*/g, '$1=[REDACTED]'],
  [/\bsess_[A-Za-z0-9]{6,}/g, 'sess_[REDACTED]'],
  [/(Bearer\s+)[^\s,;]+/gi, '$1[REDACTED]'],
];

/** Masks credential-shaped substrings in free text such as error messages. */
export function scrubSecrets(text: string): string {
  let out = text;
  for (const [pattern, replacement] of SECRET_PATTERNS) {
    out = out.replace(pattern, replacement);
  }

  return out;
}
