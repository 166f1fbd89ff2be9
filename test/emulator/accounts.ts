import { createHash } from 'node:crypto';
import { cookieValue } from './http';
import { base64UrlJson } from './jwt';
import { InvalidInput } from './validate';

/** Derives a stable Clerk-style id such as `sess_…` from a seed, so restarts reuse the same ids. */
export function deriveId(prefix: string, seed: string, length = 27): string {
  const digest = createHash('sha256').update(`${prefix}:${seed}`).digest('base64url');

  return `${prefix}_${digest.replace(/[-_]/g, '').slice(0, length)}`;
}

/**
 * Builds a `__client` value shaped like Clerk's: a JWT with a client id and a rotating token.
 * The emulator only compares it as a string and never checks its signature.
 */
export function makeClientValue(seed: string): string {
  const header = base64UrlJson({
    alg: 'RS256',
    cat: 'cl_B7d4PD111AAA',
    kid: 'ins_emulator',
    typ: 'JWT',
  });
  const payload = base64UrlJson({
    id: deriveId('client', seed),
    rotating_token: deriveId('rt', seed, 20).slice(3),
  });
  const signature = createHash('sha512').update(`signature:${seed}`).digest('base64url');

  return `${header}.${payload}.${signature}`;
}

/**
 * Accepts either a bare `__client` value or a whole Cookie header that contains one, and
 * returns the value. Throws InvalidInput for a header without `__client`.
 */
export function extractClientValue(cookie: string): string {
  if (/(^|;)\s*__client=/.test(cookie)) {
    const value = cookieValue(cookie, '__client');
    if (value) return value;
  }
  if (cookie.includes(';') || cookie.includes('=') || cookie.trim() === '') {
    throw new InvalidInput(
      'cookie must be a __client value or a Cookie header containing __client=',
    );
  }

  return cookie.trim();
}

const DEMO_CLIENT = makeClientValue('demo');
const DEMO_SESSION = `sess_demo${deriveId('sess', 'demo', 18).slice('sess_'.length)}`;
const DEMO_UAT = 1735689600;

/**
 * The account the emulator starts with when no accounts are given: 500 credits on the pro
 * plan. `cookie` is a Cookie header as a browser would send it, with analytics cookies
 * around `__client`.
 */
export const DEFAULT_ACCOUNT: {
  id: 'demo';
  clientToken: string;
  sessionId: string;
  cookie: string;
} = {
  id: 'demo',
  clientToken: DEMO_CLIENT,
  sessionId: DEMO_SESSION,
  cookie: [
    'ajs_anonymous_id=%2231a5f0c2-8d0b-4e57-9a51-0d4c8f6b2e71%22',
    `__client=${DEMO_CLIENT}`,
    `__client_uat=${DEMO_UAT}`,
    `__client_uat_U9tcbTPE=${DEMO_UAT}`,
    `_ga=GA1.1.1402938475.${DEMO_UAT}`,
    '__cf_bm=Xq3vJ9sL2mR8tY4wE6uI0oP5aZ7cV1bN3mK8jH2gF4d-1735689600-1.0.1.1-emulator',
  ].join('; '),
};
