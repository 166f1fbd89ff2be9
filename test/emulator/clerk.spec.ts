import { DEFAULT_ACCOUNT } from './accounts';
import type { RunningEmulator } from './server';
import { control, mintJwt, readJson, sleep, startQuiet, stats, studio } from './spec-helpers';

const QUERY = '_clerk_js_version=5.117.0&__clerk_api_version=2025-11-10&_is_native=true';

function decodeClaims(jwt: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString('utf8')) as Record<
    string,
    unknown
  >;
}

function clerkClient(
  emulator: RunningEmulator,
  headers: Record<string, string>,
): Promise<Response> {
  return fetch(`${emulator.url}/v1/client?${QUERY}`, { headers });
}

function tokens(
  emulator: RunningEmulator,
  client: string,
  sid: string,
  suffix = '',
): Promise<Response> {
  return fetch(`${emulator.url}/v1/client/sessions/${sid}/tokens${suffix}?${QUERY}`, {
    method: 'POST',
    headers: { authorization: client },
  });
}

describe('Clerk routes', () => {
  let emulator: RunningEmulator;

  beforeEach(async () => {
    emulator = await startQuiet({ jwtTtlS: 60 });
  });

  afterEach(async () => {
    await emulator.close();
  });

  it('returns null client for an unknown cookie', async () => {
    const response = await clerkClient(emulator, { cookie: '__client=nobody' });

    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ response: null, client: null });
  });

  it('finds the session from a full Cookie header', async () => {
    const response = await clerkClient(emulator, { cookie: DEFAULT_ACCOUNT.cookie });
    const body = await readJson<{
      response: Record<string, unknown> & { sessions: Record<string, unknown>[] };
    }>(response);

    expect(body.response.last_active_session_id).toBe(DEFAULT_ACCOUNT.sessionId);
    expect(body.response.sessions[0]).toMatchObject({
      id: DEFAULT_ACCOUNT.sessionId,
      status: 'active',
    });
    expect(typeof body.response.sessions[0].expire_at).toBe('number');
  });

  it('accepts the raw __client value as Authorization', async () => {
    const response = await clerkClient(emulator, { authorization: DEFAULT_ACCOUNT.clientToken });
    const body = await readJson<{ client: { last_active_session_id: string } }>(response);

    expect(body.client.last_active_session_id).toBe(DEFAULT_ACCOUNT.sessionId);
  });

  it('mints a JWT with the session claims', async () => {
    const before = Math.floor(Date.now() / 1000);
    const response = await tokens(emulator, DEFAULT_ACCOUNT.clientToken, DEFAULT_ACCOUNT.sessionId);
    const body = await readJson<{ jwt: string; object: string }>(response);
    const claims = decodeClaims(body.jwt);

    expect(response.status).toBe(200);
    expect(body.object).toBe('token');
    expect(claims.sid).toBe(DEFAULT_ACCOUNT.sessionId);
    expect(claims.aud).toBe('suno-api');
    expect(claims.iss).toBe(emulator.url);
    expect(typeof claims.sub).toBe('string');
    expect(claims.exp as number).toBeGreaterThanOrEqual(before + 60);
    expect(claims.exp as number).toBeLessThanOrEqual(before + 61);
    expect((await stats(emulator)).tokens_minted).toBe(1);
  });

  it('serves the older /tokens/api path', async () => {
    const response = await tokens(
      emulator,
      DEFAULT_ACCOUNT.clientToken,
      DEFAULT_ACCOUNT.sessionId,
      '/api',
    );

    expect(response.status).toBe(200);
    expect((await readJson<{ jwt: string }>(response)).jwt.split('.')).toHaveLength(3);
  });

  it('rejects a wrong session id', async () => {
    const response = await tokens(emulator, DEFAULT_ACCOUNT.clientToken, 'sess_other');
    const body = await readJson<{ errors: { code: string }[]; clerk_trace_id: string }>(response);

    expect(response.status).toBe(401);
    expect(body.errors[0].code).toBe('authentication_invalid');
    expect(body.clerk_trace_id).toMatch(/^[0-9a-f]{32}$/);
  });

  it('rejects an unknown client on tokens', async () => {
    const response = await tokens(emulator, 'unknown-client', DEFAULT_ACCOUNT.sessionId);

    expect(response.status).toBe(401);
    expect((await readJson<{ errors: { code: string }[] }>(response)).errors[0].code).toBe(
      'authentication_invalid',
    );
  });

  it('reports session_revoked for a revoked account', async () => {
    await control(emulator, 'POST', '/accounts', { id: 'demo', revoked: true });
    const response = await tokens(emulator, DEFAULT_ACCOUNT.clientToken, DEFAULT_ACCOUNT.sessionId);

    expect(response.status).toBe(401);
    expect((await readJson<{ errors: { code: string }[] }>(response)).errors[0].code).toBe(
      'session_revoked',
    );
  });

  it('shows no session for a signed-out account', async () => {
    await control(emulator, 'POST', '/accounts', { id: 'demo', signed_out: true });
    const response = await clerkClient(emulator, { cookie: DEFAULT_ACCOUNT.cookie });
    const body = await readJson<{
      response: { sessions: unknown[]; last_active_session_id: unknown };
    }>(response);

    expect(body.response.sessions).toEqual([]);
    expect(body.response.last_active_session_id).toBeNull();
    expect(
      (await tokens(emulator, DEFAULT_ACCOUNT.clientToken, DEFAULT_ACCOUNT.sessionId)).status,
    ).toBe(401);
  });

  it('requires __clerk_api_version when configured', async () => {
    await control(emulator, 'PATCH', '/config', { require_api_version: true });
    const without = await fetch(`${emulator.url}/v1/client?_clerk_js_version=5.117.0`, {
      headers: { cookie: DEFAULT_ACCOUNT.cookie },
    });
    const withVersion = await clerkClient(emulator, { cookie: DEFAULT_ACCOUNT.cookie });

    expect(without.status).toBe(400);
    expect((await readJson<{ errors: { code: string }[] }>(without)).errors[0].code).toBe(
      'api_version_invalid',
    );
    expect(withVersion.status).toBe(200);
  });

  it('rotates __client every fifth call', async () => {
    const setCookies: string[][] = [];
    for (let call = 1; call <= 5; call += 1) {
      const response = await tokens(
        emulator,
        DEFAULT_ACCOUNT.clientToken,
        DEFAULT_ACCOUNT.sessionId,
      );
      setCookies.push(response.headers.getSetCookie());
    }

    expect(setCookies.slice(0, 4)).toEqual([[], [], [], []]);
    const rotated = setCookies[4].find((header) => header.startsWith('__client='));
    const uat = setCookies[4].find((header) => header.startsWith('__client_uat='));
    expect(rotated).toMatch(
      /; Path=\/; Domain=127\.0\.0\.1; Max-Age=\d+; Secure; SameSite=Lax; HttpOnly$/,
    );
    expect(uat).toMatch(/^__client_uat=\d{10};/);

    const newValue = (rotated as string).slice('__client='.length).split(';')[0];
    expect(newValue).not.toBe(DEFAULT_ACCOUNT.clientToken);
    expect((await tokens(emulator, newValue, DEFAULT_ACCOUNT.sessionId)).status).toBe(200);
    expect(
      (await tokens(emulator, DEFAULT_ACCOUNT.clientToken, DEFAULT_ACCOUNT.sessionId)).status,
    ).toBe(200);
    expect((await stats(emulator)).stale_client_uses).toBe(1);
  });

  it('never rotates when rotate_every is 0', async () => {
    await control(emulator, 'PATCH', '/config', { rotate_every: 0 });
    for (let call = 1; call <= 6; call += 1) {
      const response = await clerkClient(emulator, { cookie: DEFAULT_ACCOUNT.cookie });
      expect(response.headers.getSetCookie()).toEqual([]);
    }
  });

  it('rejects studio calls once the JWT expires', async () => {
    // exp is in whole seconds from floor(now), so a 2 s lifetime leaves at least 1 s.
    await control(emulator, 'PATCH', '/config', { jwt_ttl_s: 2 });
    const jwt = await mintJwt(emulator);
    const fresh = await studio(emulator, jwt, '/api/billing/info/');
    await sleep((decodeClaims(jwt).exp as number) * 1000 - Date.now() + 20);
    const expired = await studio(emulator, jwt, '/api/billing/info/');

    expect(fresh.status).toBe(200);
    expect(expired.status).toBe(401);
    expect(await expired.json()).toEqual({ detail: 'Unauthorized' });
  });

  it('rejects a JWT with a forged signature', async () => {
    const jwt = await mintJwt(emulator);
    const [header, payload] = jwt.split('.');
    const forged = `${header}.${payload}.${Buffer.from('forged').toString('base64url')}`;

    expect((await studio(emulator, forged, '/api/billing/info/')).status).toBe(401);
    expect((await studio(emulator, 'not-a-jwt', '/api/billing/info/')).status).toBe(401);
  });

  it('rejects the JWT of a revoked account', async () => {
    const jwt = await mintJwt(emulator);
    await control(emulator, 'POST', '/accounts', { id: 'demo', revoked: true });

    expect((await studio(emulator, jwt, '/api/billing/info/')).status).toBe(401);
  });
});
