export interface JwtClaims {
  exp?: number;
  iat?: number;
  sid?: string;
  sub?: string;
}

/**
 * Reads a JWT's claims without verifying it: the gateway only needs `exp` to schedule the
 * refresh; the upstream verifies the signature.
 */
export function decodeJwt(jwt: string): JwtClaims | undefined {
  const parts = jwt.split('.');
  if (parts.length !== 3) return undefined;
  try {
    const claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')) as unknown;

    return claims && typeof claims === 'object' ? (claims as JwtClaims) : undefined;
  } catch {
    return undefined;
  }
}
