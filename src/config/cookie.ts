/** Result of cleaning a cookie pasted from a browser's dev tools. */
export type CookieCheck =
  { ok: true; cookie: string; clientToken: string } | { ok: false; reason: string };

/**
 * Trims what copy-paste adds around a cookie header (quotes, whitespace, newlines, a leading
 * `Cookie:`) and rejects what cannot be sent as a header value. The reason names the character
 * offset but never echoes the value, because the cookie is a credential.
 */
export function sanitizeCookie(raw: string): CookieCheck {
  let cookie = raw.trim();
  // Quotes and the header name come in either order depending on where the value was copied.
  for (let previous = ''; previous !== cookie;) {
    previous = cookie;
    if (/^cookie:/i.test(cookie)) cookie = cookie.slice('cookie:'.length).trim();
    if (cookie.length >= 2 && isQuote(cookie[0]) && cookie[cookie.length - 1] === cookie[0]) {
      cookie = cookie.slice(1, -1).trim();
    }
  }
  cookie = cookie.replace(/[\r\n]+\s*/g, ' ').trim();

  if (cookie.length === 0) {
    return { ok: false, reason: 'is empty' };
  }
  const bad = findInvalidHeaderChar(cookie);
  if (bad !== -1) {
    return {
      ok: false,
      reason: `contains a character that cannot be sent in an HTTP header at offset ${bad} (code point U+${cookie.codePointAt(bad)!.toString(16).toUpperCase().padStart(4, '0')})`,
    };
  }
  const clientToken = readCookieValue(cookie, '__client');
  if (!clientToken) {
    return {
      ok: false,
      reason:
        'has no __client cookie; copy the whole Cookie header of a request to the Clerk host (auth.suno.com) while signed in',
    };
  }

  return { ok: true, cookie, clientToken };
}

/** Reads one cookie's value from a Cookie header; `undefined` when absent or empty. */
export function readCookieValue(cookieHeader: string, name: string): string | undefined {
  for (const part of cookieHeader.split(';')) {
    const eq = part.indexOf('=');
    if (eq === -1) continue;
    if (part.slice(0, eq).trim() === name) {
      const value = part.slice(eq + 1).trim();

      return value.length > 0 ? value : undefined;
    }
  }

  return undefined;
}

function isQuote(ch: string | undefined): boolean {
  return ch === '"' || ch === "'" || ch === '`';
}

/** Header values may hold visible ASCII, space and tab (RFC 9110 field-value, minus obs-text). */
function findInvalidHeaderChar(value: string): number {
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    const allowed = code === 0x09 || (code >= 0x20 && code <= 0x7e);
    if (!allowed) return i;
  }

  return -1;
}
