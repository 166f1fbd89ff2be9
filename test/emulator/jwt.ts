import { createHmac, timingSafeEqual } from 'node:crypto';

/** Claims of the session JWT that Clerk mints and the studio API checks. */
export interface SessionClaims {
  sid: string;
  sub: string;
  /** Expiry, unix seconds. */
  exp: number;
  iat: number;
  nbf: number;
  aud: string;
  azp: string;
  iss: string;
}

// The header never changes, so it is encoded once.
const HEADER = base64UrlJson({ alg: 'HS256', typ: 'JWT', kid: 'ins_emulator' });

export function base64UrlJson(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

/** Signs `claims` as a compact HS256 JWT. */
export function signJwt(claims: SessionClaims, secret: Buffer): string {
  const signingInput = `${HEADER}.${base64UrlJson(claims)}`;
  const signature = createHmac('sha256', secret).update(signingInput).digest('base64url');

  return `${signingInput}.${signature}`;
}

/**
 * Returns the claims of `token` when its HS256 signature matches `secret`, else null.
 * Expiry and revocation are the caller's checks, because they change over time and the
 * signature does not.
 */
export function verifyJwtSignature(token: string, secret: Buffer): SessionClaims | null {
  const parts = token.split('.');
  if (parts.length !== 3 || parts[0] !== HEADER) {
    return null;
  }

  const expected = createHmac('sha256', secret).update(`${parts[0]}.${parts[1]}`).digest();
  const given = Buffer.from(parts[2], 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return null;
  }

  return parseClaims(parts[1]);
}

function parseClaims(segment: string): SessionClaims | null {
  try {
    const claims: unknown = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
    if (
      typeof claims === 'object' &&
      claims !== null &&
      typeof (claims as SessionClaims).sid === 'string' &&
      typeof (claims as SessionClaims).exp === 'number'
    ) {
      return claims as SessionClaims;
    }
  } catch {
    // A payload that is not JSON makes the token invalid, like a bad signature.
  }

  return null;
}
