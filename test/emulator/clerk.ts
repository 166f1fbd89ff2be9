import { randomBytes } from 'node:crypto';
import { makeClientValue } from './accounts';
import { cookieValue, jsonReply, type HeaderMap, type Reply, type RequestContext } from './http';
import { signJwt } from './jwt';
import type { Account } from './state';

/** `Max-Age` of a rotated `__client` cookie: about a year, like Clerk's. */
const CLIENT_MAX_AGE_S = 365 * 24 * 3600;
const SESSION_LIFETIME_MS = 7 * 24 * 3600 * 1000;

interface IdentifiedClient {
  account: Account;
  value: string;
}

/**
 * Finds the account of a `__client` value sent as a raw `Authorization` header (without
 * "Bearer", as Clerk's native clients do) or inside the Cookie header.
 */
function identifyClient(ctx: RequestContext): IdentifiedClient | null {
  const candidates: string[] = [];
  const authorization = ctx.headers.authorization;
  if (authorization) candidates.push(authorization.trim());
  const cookie = ctx.headers.cookie;
  const fromCookie = cookie === undefined ? undefined : cookieValue(cookie, '__client');
  if (fromCookie) candidates.push(fromCookie);

  for (const value of candidates) {
    const account = ctx.state.findAccountByClient(value);
    if (account) return { account, value };
  }

  return null;
}

function clerkError(status: number, code: string, message: string, longMessage: string): Reply {
  return jsonReply(status, {
    errors: [{ code, message, long_message: longMessage, meta: {} }],
    clerk_trace_id: randomBytes(16).toString('hex'),
  });
}

function checkApiVersion(ctx: RequestContext): Reply | null {
  if (!ctx.state.config.require_api_version || ctx.query.has('__clerk_api_version')) {
    return null;
  }

  return clerkError(
    400,
    'api_version_invalid',
    'Invalid API version',
    'The __clerk_api_version query parameter is missing; send a supported Clerk API version.',
  );
}

/** Compares dotted versions part by part as numbers; a missing or non-numeric part counts as 0. */
function compareVersions(a: string, b: string): number {
  const left = a.split('.').map((part) => Number(part) || 0);
  const right = b.split('.').map((part) => Number(part) || 0);
  for (let i = 0; i < Math.max(left.length, right.length); i += 1) {
    const difference = (left[i] ?? 0) - (right[i] ?? 0);
    if (difference !== 0) return difference;
  }

  return 0;
}

/**
 * Rejects a `_clerk_js_version` above `max_clerk_js_version`, as Clerk's bot checks did for
 * clients that fetched the newest version at run time. A call without the parameter passes.
 */
function checkClerkJsVersion(ctx: RequestContext): Reply | null {
  const max = ctx.state.config.max_clerk_js_version;
  const sent = ctx.query.get('_clerk_js_version');
  if (max === null || sent === null || compareVersions(sent, max) <= 0) return null;

  return clerkError(
    401,
    'authentication_invalid',
    'Invalid authentication',
    `Clerk JS version ${sent} is not accepted; the highest accepted version is ${max}.`,
  );
}

/** Returns the first rejection of the query parameters, or null when they pass. */
function checkQuery(ctx: RequestContext): Reply | null {
  return checkApiVersion(ctx) ?? checkClerkJsVersion(ctx);
}

/**
 * Counts a successful Clerk call and, on every `rotate_every`-th call, gives the account a new
 * `__client` value. Returns the Set-Cookie headers of the rotation, or no headers.
 */
function recordClerkCall(ctx: RequestContext, client: IdentifiedClient): HeaderMap {
  const { account } = client;
  const { state } = ctx;
  account.clerkCalls += 1;
  if (client.value !== account.clientValues[account.clientValues.length - 1]) {
    state.stats.stale_client_uses += 1;
  }
  const every = state.config.rotate_every;
  if (every === 0 || account.clerkCalls % every !== 0) return {};

  const value = makeClientValue(`${account.id}:${randomBytes(12).toString('hex')}`);
  state.addClientValue(account, value);
  const domain = new URL(state.publicUrl).hostname;
  const attributes = `Path=/; Domain=${domain}; Max-Age=${CLIENT_MAX_AGE_S}; Secure; SameSite=Lax`;

  return {
    'set-cookie': [
      `__client=${value}; ${attributes}; HttpOnly`,
      `__client_uat=${Math.floor(ctx.now / 1000)}; ${attributes}`,
    ],
  };
}

/** Mints a session JWT for the account's current session. */
export function mintSessionJwt(ctx: RequestContext, account: Account): string {
  const iat = Math.floor(ctx.now / 1000);

  return signJwt(
    {
      sid: account.sessionId,
      sub: account.userId,
      iat,
      nbf: iat - 10,
      exp: iat + ctx.state.config.jwt_ttl_s,
      aud: 'suno-api',
      azp: 'https://suno.com',
      iss: ctx.state.publicUrl,
    },
    ctx.state.jwtSecret,
  );
}

/** Clerk's client object. Signed-out and revoked accounts have no session, as after a logout. */
function clientResource(ctx: RequestContext, account: Account): Record<string, unknown> {
  const base = { object: 'client', id: `client_${account.userId.slice(5)}` };
  if (account.signedOut || account.revoked) {
    return { ...base, sessions: [], last_active_session_id: null };
  }

  const session = {
    object: 'session',
    id: account.sessionId,
    status: 'active',
    expire_at: ctx.now + SESSION_LIFETIME_MS,
    abandon_at: ctx.now + 4 * SESSION_LIFETIME_MS,
    last_active_at: ctx.now,
    last_active_token: { object: 'token', jwt: mintSessionJwt(ctx, account) },
    user: {
      object: 'user',
      id: account.userId,
      username: null,
      first_name: account.id,
      email_addresses: [
        { object: 'email_address', email_address: `${account.id}@emulator.invalid` },
      ],
    },
  };

  return { ...base, sessions: [session], last_active_session_id: account.sessionId };
}

/** `GET /v1/client`: the signed-in client, or `response: null` for an unknown cookie. */
export function handleClerkClient(ctx: RequestContext): Reply {
  const versionError = checkQuery(ctx);
  if (versionError) return versionError;

  const client = identifyClient(ctx);
  if (client === null) {
    return jsonReply(200, { response: null, client: null });
  }

  const headers = recordClerkCall(ctx, client);
  const resource = clientResource(ctx, client.account);

  return jsonReply(200, { response: resource, client: resource }, headers);
}

/** `POST /v1/client/sessions/{sid}/tokens` (and the older `/tokens/api`): a new session JWT. */
export function handleClerkToken(ctx: RequestContext): Reply {
  const versionError = checkQuery(ctx);
  if (versionError) return versionError;

  const client = identifyClient(ctx);
  const sessionId = ctx.params[0];
  if (client === null || client.account.sessionId !== sessionId) {
    return clerkError(
      401,
      'authentication_invalid',
      'Invalid authentication',
      'No active session with this id exists for the client; sign in again.',
    );
  }
  if (client.account.revoked) {
    return clerkError(
      401,
      'session_revoked',
      'Session revoked',
      'This session was revoked. Sign in again to start a new session.',
    );
  }
  if (client.account.signedOut) {
    return clerkError(
      401,
      'authentication_invalid',
      'Invalid authentication',
      'The client signed out of this session; sign in again.',
    );
  }

  const headers = recordClerkCall(ctx, client);
  ctx.state.stats.tokens_minted += 1;

  return jsonReply(200, { object: 'token', jwt: mintSessionJwt(ctx, client.account) }, headers);
}
