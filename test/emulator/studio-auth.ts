import { detailReply, type Handler, type Reply, type RequestContext } from './http';
import { verifyJwtSignature } from './jwt';
import type { Account } from './state';

export type StudioHandler = (ctx: RequestContext, account: Account) => Reply;

// Past this many cached tokens the cache is dropped, which costs one HMAC per token again.
const MAX_CACHED_TOKENS = 10_000;

/**
 * Returns the account of a valid `Authorization: Bearer <jwt>`: good signature, `exp` not
 * passed, a session id that is still the account's, and an account that is not revoked.
 */
export function authenticate(ctx: RequestContext): Account | null {
  const header = ctx.headers.authorization;
  if (header === undefined || !/^bearer /i.test(header)) return null;

  const token = header.slice(7).trim();
  const { state } = ctx;
  let claims = state.verifiedTokens.get(token);
  if (claims === undefined) {
    const verified = verifyJwtSignature(token, state.jwtSecret);
    if (verified === null) return null;
    if (state.verifiedTokens.size >= MAX_CACHED_TOKENS) state.verifiedTokens.clear();
    state.verifiedTokens.set(token, verified);
    claims = verified;
  }
  if (claims.exp * 1000 <= ctx.now) return null;

  for (const account of state.accounts.values()) {
    if (account.userId === claims.sub) {
      return account.sessionId === claims.sid && !account.revoked ? account : null;
    }
  }

  return null;
}

const UNAUTHORIZED = detailReply(401, 'Unauthorized');

/** Wraps a studio handler so that it runs only for a request with a valid session JWT. */
export function studioRoute(handler: StudioHandler): Handler {
  return (ctx) => {
    const account = authenticate(ctx);

    return account === null ? UNAUTHORIZED : handler(ctx, account);
  };
}
