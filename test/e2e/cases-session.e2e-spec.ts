/**
 * Sign-in trouble that users of other Suno gateways met, replayed against the emulator's
 * Clerk: signed-out and rejected sessions, a retired auth host, a changed request format, a
 * Clerk JS version that Clerk rejects, a flaky first login, token responses without a JWT, and
 * an outage followed by recovery.
 */
import { DEFAULT_ACCOUNT } from '../emulator';
import {
  accountViews,
  emulatorControl,
  metricValue,
  recordConnections,
  routeDelta,
  startFixedServer,
  startPool,
  transitions,
  type CountingServer,
  type PoolStack,
} from './support/cases-support';
import { eventually, sleep, startStack, type Stack } from './support/harness';
import { expectProblem } from './support/problem';

jest.setTimeout(30_000);

const SONG = {
  prompt: '[Verse]\nLanterns on the water',
  title: 'Lanterns',
  tags: 'folk',
  mv: 'chirp-v3-5',
};
const STUDIO_401_ONCE = {
  match: 'billing',
  action: 'status',
  status: 401,
  body: { detail: 'Unauthorized' },
  count: 1,
} as const;
const OLD_HOST_PAGE =
  '<!DOCTYPE html><html><head><title>403 Forbidden</title></head><body><h1>Forbidden</h1></body></html>';

function clerkError(code: string): { errors: { code: string; message: string }[] } {
  return { errors: [{ code, message: code }] };
}

describe('signed-out account in a pool', () => {
  let stack: PoolStack;

  beforeAll(async () => {
    stack = await startPool({
      accounts: [{ id: 'a' }, { id: 'b' }, { id: 'c' }],
      emulator: { generationS: 1 },
      beforeGateway: (emulator) =>
        emulatorControl(emulator, 'POST', '/accounts', { id: 'a', signed_out: true }),
    });
  });

  afterAll(async () => {
    await stack?.close();
  });

  it('serves others and reports needs_relogin', async () => {
    const views = await accountViews(stack);
    const before = await stack.stats();

    const created = await stack.request('POST', '/v1/generations?wait=true', { body: SONG });
    const credits = await stack.request('GET', '/v1/credits');

    expect(views.a).toMatchObject({ state: 'needs_relogin', usable: false });
    expect(views.a.state_reason).toMatch(/no active session/i);
    expect(views.b.state).toBe('active');
    expect(created.status).toBe(200);
    expect(created.body.account).toBe('b');
    expect(credits.status).toBe(200);
    expect(credits.body.accounts.map((a: { id: string }) => a.id)).toEqual(['b', 'c']);
    expect(routeDelta(before, await stack.stats()).generate).toBe(1);
    expect(
      await metricValue(stack, 'suno_account_state', { account: 'a', state: 'needs_relogin' }),
    ).toBe(1);
    expect(await metricValue(stack, 'suno_account_state', { account: 'a', state: 'active' })).toBe(
      0,
    );
  });

  it('moves a generate off a signed-out account', async () => {
    await stack.upsertEmulatorAccount({ id: 'b', signed_out: true });
    // The studio rejects b's token once, so the gateway must ask Clerk and learn of the sign-out.
    await stack.fault({
      match: 'generate',
      action: 'status',
      status: 401,
      body: { detail: 'Unauthorized' },
      count: 1,
    });
    const before = await stack.stats();

    const created = await stack.request('POST', '/v1/generations', { body: SONG });

    expect(created.status).toBe(202);
    expect(created.body.account).toBe('c');
    expect(routeDelta(before, await stack.stats()).generate).toBe(2);
    const views = await accountViews(stack);
    expect(views.b.state).toBe('needs_relogin');
    expect(views.c.state).toBe('active');
  });
});

describe('Clerk rejecting the session', () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack({ env: { SESSION_BACKGROUND_REFRESH: 'false' } });
  });

  afterAll(async () => {
    await stack?.close();
  });

  it('expires the account after one rediscovery', async () => {
    await stack.fault({
      match: 'clerk_token',
      action: 'status',
      status: 401,
      body: clerkError('authentication_invalid'),
    });
    await stack.fault(STUDIO_401_ONCE);
    const before = await stack.stats();

    const response = await stack.request('GET', '/v1/credits');

    expectProblem(response, 503, 'ACCOUNT_SESSION_INVALID');
    expect(response.body.upstream_status).toBe(401);
    // One studio call: the replay is not sent without a new token.
    expect(routeDelta(before, await stack.stats())).toEqual({
      billing: 1,
      clerk_token: 2,
      clerk_client: 1,
    });
    const views = await accountViews(stack);
    expect(views.default.state).toBe('expired');
    expect(views.default.state_reason).toContain('authentication_invalid');
    expect(views.default.last_refresh_error).toEqual(expect.any(String));
  });
});

describe('retired auth host', () => {
  let oldHost: CountingServer;
  let stack: Stack;

  beforeAll(async () => {
    oldHost = await startFixedServer(403, OLD_HOST_PAGE, 'text/html; charset=utf-8');
    // Without background refreshes, only requests call the host, so the breaker count is exact.
    stack = await startStack({
      env: {
        SUNO_AUTH_URL: oldHost.url,
        BREAKER_THRESHOLD: '3',
        BREAKER_OPEN_MS: '60000',
        SESSION_BACKGROUND_REFRESH: 'false',
      },
    });
  });

  afterAll(async () => {
    await stack?.close();
    await oldHost?.close();
  });

  it('names the host without generating', async () => {
    const host = new URL(oldHost.url).host;

    const views = await accountViews(stack);
    const response = await stack.request('POST', '/v1/generations', { body: SONG });

    expect(views.default.state).toBe('auth_unreachable');
    expect(views.default.state_reason).toContain(host);
    expect(views.default.state_reason).toContain('HTML');
    expect(oldHost.requests.length).toBe(2);
    expectProblem(response, 502, 'UPSTREAM_AUTH_UNREACHABLE');
    expect(response.body.detail).toContain(host);
    expect(response.body.detail).toContain('SUNO_AUTH_URL');
    expect(response.text).not.toContain('Forbidden</h1>');
    expect((await stack.stats()).requests.generate).toBe(0);
  });

  it('open auth breaker stops host calls', async () => {
    const responses = [];
    while (responses.length < 8 && responses[responses.length - 1]?.body?.code !== 'CIRCUIT_OPEN') {
      responses.push(await stack.request('GET', '/v1/credits'));
    }
    const seen = oldHost.requests.length;

    const later = await stack.request('GET', '/v1/credits');

    expect(responses[responses.length - 1].body.code).toBe('CIRCUIT_OPEN');
    expectProblem(later, 503, 'CIRCUIT_OPEN');
    expect(oldHost.requests.length).toBe(seen);
    expect((await stack.stats()).requests.generate).toBe(0);
  });
});

describe('Clerk request format', () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack({
      env: { SESSION_BACKGROUND_REFRESH: 'false' },
      beforeGateway: async (emulator) => {
        await emulatorControl(emulator, 'PATCH', '/config', { require_api_version: true });
        await emulatorControl(emulator, 'POST', '/faults', {
          match: 'clerk_client',
          action: 'status',
          status: 400,
          body: clerkError('api_version_invalid'),
          count: 1,
        });
      },
    });
  });

  afterAll(async () => {
    await stack?.close();
  });

  it('readiness reports the rejected boot login', async () => {
    const ready = await stack.request('GET', '/health/ready', { auth: false });
    const startup = await stack.request('GET', '/health/startup', { auth: false });

    expect(startup.status).toBe(200);
    expect(ready.status).toBe(503);
    expect(ready.body.details.accounts.reason).toContain('api_version_invalid');
    const views = await accountViews(stack);
    expect(views.default.state).toBe('auth_unreachable');
  });

  it('sends the pinned Clerk API version', async () => {
    const response = await stack.request('GET', '/v1/credits');

    expect(response.status).toBe(200);
    expect((await accountViews(stack)).default.state).toBe('active');
  });

  it('returns UPSTREAM_AUTH_CONTRACT_CHANGED and logs one transition', async () => {
    const transitionsBefore = transitions(stack, 'default').length;
    await stack.fault({
      match: 'clerk_token',
      action: 'status',
      status: 400,
      body: clerkError('api_version_invalid'),
    });
    await stack.fault({ ...STUDIO_401_ONCE, count: 4 });

    const responses = [];
    for (let i = 0; i < 4; i++) responses.push(await stack.request('GET', '/v1/credits'));

    for (const response of responses) {
      expectProblem(response, 502, 'UPSTREAM_AUTH_CONTRACT_CHANGED');
      expect(response.body.detail).toContain('api_version_invalid');
    }
    const added = transitions(stack, 'default').slice(transitionsBefore);
    expect(added.map((line) => line.to)).toEqual(['auth_unreachable']);
    expect(added[0].reason).toContain('api_version_invalid');
    await stack.clearFaults();
  });
});

describe('pinned Clerk JS version', () => {
  const MAX_ACCEPTED = '5.34.0';

  async function startWithVersion(version: string): Promise<Stack> {
    return startStack({
      env: { SUNO_CLERK_JS_VERSION: version, SESSION_BACKGROUND_REFRESH: 'false' },
      beforeGateway: (emulator) =>
        emulatorControl(emulator, 'PATCH', '/config', { max_clerk_js_version: MAX_ACCEPTED }),
    });
  }

  it('logs in without contacting other hosts', async () => {
    const connections = recordConnections();
    let stack: Stack | undefined;
    try {
      stack = await startWithVersion('5.34.0');
      const credits = await stack.request('GET', '/v1/credits');
      const startup = await stack.request('GET', '/health/startup', { auth: false });

      expect(credits.status).toBe(200);
      expect(startup.status).toBe(200);
      expect((await accountViews(stack)).default.state).toBe('active');
      expect((await stack.stats()).requests.unknown).toBe(0);
    } finally {
      connections.stop();
      await stack?.close();
    }
    const hosts = connections.hosts();
    expect(hosts.length).toBeGreaterThan(0);
    expect(hosts.filter((host) => !['127.0.0.1', '::1', 'localhost'].includes(host))).toEqual([]);
  });

  it('rejected version marks the session expired', async () => {
    const stack = await startWithVersion('5.35.0');
    try {
      const credits = await stack.request('GET', '/v1/credits');

      expectProblem(credits, 503, 'ACCOUNT_SESSION_INVALID');
      const views = await accountViews(stack);
      expect(views.default.state).toBe('expired');
      expect(views.default.state_reason).toContain('authentication_invalid');
      expect((await stack.stats()).tokens_minted).toBe(0);
    } finally {
      await stack.close();
    }
  });
});

describe('flaky first login', () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack({
      env: { SESSION_BACKGROUND_REFRESH: 'false' },
      // Three 503s use up the three attempts of the boot login's client call.
      beforeGateway: (emulator) =>
        emulatorControl(emulator, 'POST', '/faults', {
          match: 'clerk_client',
          action: 'status',
          status: 503,
          count: 3,
        }),
    });
  });

  afterAll(async () => {
    await stack?.close();
  });

  it('retries the login on the next request', async () => {
    const afterBoot = await accountViews(stack);

    const response = await stack.request('GET', '/v1/credits');

    expect(afterBoot.default.state).toBe('auth_unreachable');
    expect(afterBoot.default.token_expires_at).toBeNull();
    expect(response.status).toBe(200);
    expect((await accountViews(stack)).default.state).toBe('active');
    const stats = await stack.stats();
    expect(stats.requests.clerk_client).toBe(4);
    expect(stats.tokens_minted).toBe(1);
  });

  it('rediscovers a replaced session', async () => {
    await stack.upsertEmulatorAccount({
      id: DEFAULT_ACCOUNT.id,
      session_id: 'sess_replacedByAnotherLogin01',
    });
    const before = await stack.stats();

    const response = await stack.request('GET', '/v1/credits');

    expect(response.status).toBe(200);
    const delta = routeDelta(before, await stack.stats());
    expect(delta).toMatchObject({ billing: 2, clerk_client: 1, clerk_token: 2 });
    expect((await accountViews(stack)).default.state).toBe('active');
  });
});

describe('background refresh after failures', () => {
  const BASE_MS = 100;
  const MAX_MS = 800;

  it('backs off up to the cap', async () => {
    const stack = await startStack({
      env: {
        SESSION_RETRY_BASE_MS: String(BASE_MS),
        SESSION_RETRY_MAX_MS: String(MAX_MS),
        RETRY_MAX_ATTEMPTS: '1',
      },
      beforeGateway: (emulator) =>
        emulatorControl(emulator, 'POST', '/faults', {
          match: 'clerk_client',
          action: 'status',
          status: 503,
        }),
    });
    try {
      await sleep(4_000);
      const times = stack
        .logs()
        .filter(
          (line) =>
            typeof line.msg === 'string' && line.msg.startsWith('background token refresh failed'),
        )
        .map((line) => Date.parse(String(line.time)));

      const gaps = times.slice(1).map((t, i) => t - times[i]);
      // Delays double from BASE_MS with full jitter in [50%, 100%], so the fourth gap is longer
      // than the first whatever the draws, and no gap is much above the cap.
      expect(times.length).toBeGreaterThanOrEqual(5);
      expect(times.length).toBeLessThanOrEqual(12);
      expect(gaps[3]).toBeGreaterThan(gaps[0]);
      expect(Math.max(...gaps)).toBeLessThan(MAX_MS + 500);
    } finally {
      await stack.close();
    }
  });
});

describe('token responses without a JWT', () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack({ env: { SESSION_BACKGROUND_REFRESH: 'false' } });
  });

  afterEach(async () => {
    await stack?.clearFaults();
  });

  afterAll(async () => {
    await stack?.close();
  });

  it.each([
    ['200 without jwt', 200, { object: 'token' }, 502, 'UPSTREAM_BAD_RESPONSE'],
    ['401 without jwt', 401, {}, 503, 'ACCOUNT_SESSION_INVALID'],
  ] as const)('keeps the valid token after %s', async (_name, status, body, clientStatus, code) => {
    const tokenBefore = (await accountViews(stack)).default.token_expires_at;
    await stack.fault({ match: 'clerk_token', action: 'status', status, body });
    await stack.fault(STUDIO_401_ONCE);
    const before = await stack.stats();

    const failed = await stack.request('GET', '/v1/credits');

    expectProblem(failed, clientStatus, code);
    expect(routeDelta(before, await stack.stats()).billing).toBe(1);
    const view = (await accountViews(stack)).default;
    expect(view.token_expires_at).toBe(tokenBefore);
    expect(view.last_refresh_error).toEqual(expect.any(String));
    const ready = await stack.request('GET', '/health/ready', { auth: false });
    expect(ready.status).toBe(200);
    expect(ready.body.details.accounts.accounts[0]).toMatchObject({
      id: 'default',
      has_token: true,
      token_expires_at: tokenBefore,
    });
    expect(ready.body.details.accounts.accounts[0].last_refresh_error).toEqual(expect.any(String));

    await stack.clearFaults();
    const beforeServed = await stack.stats();
    const served = await stack.request('GET', '/v1/credits');
    expect(served.status).toBe(200);
    expect(routeDelta(beforeServed, await stack.stats())).toEqual({ billing: 1 });
  });
});

describe('Clerk outage and recovery', () => {
  const OUTAGE_MS = 1_500;
  const RETRY_MAX_MS = 1_000;
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack({
      env: { SESSION_RETRY_BASE_MS: '200', SESSION_RETRY_MAX_MS: String(RETRY_MAX_MS) },
    });
  });

  afterAll(async () => {
    await stack?.close();
  });

  it('logs each transition and recovers alone', async () => {
    const startedAt = Date.now();
    await stack.fault({
      match: 'clerk_token',
      action: 'status',
      status: 401,
      body: clerkError('authentication_invalid'),
      duration_ms: OUTAGE_MS,
    });
    await stack.fault(STUDIO_401_ONCE);

    const failed = await stack.request('GET', '/v1/credits');
    const during = (await accountViews(stack)).default;
    const recovered = await eventually(
      async () => {
        const view = (await accountViews(stack)).default;

        return view.state === 'active' ? view : undefined;
      },
      'the account to recover',
      OUTAGE_MS + RETRY_MAX_MS + 3_000,
      50,
    );
    const recoveredAt = Date.now();

    expectProblem(failed, 503, 'ACCOUNT_SESSION_INVALID');
    expect(during.state).toBe('expired');
    expect(Date.parse(during.state_changed_at)).toBeGreaterThanOrEqual(startedAt - 5);
    expect(recoveredAt - startedAt).toBeLessThan(OUTAGE_MS + RETRY_MAX_MS + 1_500);
    expect(Date.parse(recovered.state_changed_at)).toBeGreaterThanOrEqual(startedAt + OUTAGE_MS);
    expect(Date.parse(recovered.last_refresh_at)).toBeGreaterThanOrEqual(startedAt + OUTAGE_MS);
    expect(recovered.last_refresh_error).toBeNull();
    expect(recovered.circuit_breakers).toEqual(expect.any(Array));

    const lines = transitions(stack, 'default').filter(
      (line) => Date.parse(String(line.time)) >= startedAt - 5,
    );
    expect(lines.map((line) => [line.from, line.to])).toEqual([
      ['active', 'expired'],
      ['expired', 'active'],
    ]);
    const ready = await stack.request('GET', '/health/ready', { auth: false });
    expect(ready.status).toBe(200);
    expect(ready.body.details.accounts.accounts[0]).toMatchObject({
      state: 'active',
      last_refresh_error: null,
    });
    expect(
      await metricValue(stack, 'suno_account_state', { account: 'default', state: 'active' }),
    ).toBe(1);
  });
});
