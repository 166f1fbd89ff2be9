/**
 * Session lifecycle against the emulator's Clerk: JWT keep-alive, single-flight refresh,
 * refresh and replay on a studio 401, cookie rotation, and the account states that a
 * signed-out or revoked session leads to.
 */
import { DEFAULT_ACCOUNT } from '../emulator';
import { sleep, startStack, TEST_API_KEY, type Stack } from './support/harness';
import { expectProblem } from './support/problem';

const UNAUTHORIZED_ONCE = {
  match: 'billing',
  action: 'status',
  status: 401,
  body: { detail: 'Unauthorized' },
  count: 1,
} as const;

async function emulatorAccount(stack: Stack): Promise<{ client_values: number }> {
  const response = await fetch(`${stack.emulator.url}/__emulator/accounts`);
  const { accounts } = (await response.json()) as {
    accounts: { id: string; client_values: number }[];
  };

  return accounts.find((a) => a.id === DEFAULT_ACCOUNT.id)!;
}

async function accountView(stack: Stack): Promise<Record<string, any>> {
  const response = await stack.request('GET', '/v1/accounts');
  expect(response.status).toBe(200);

  return response.body.accounts[0];
}

describe('token keep-alive', () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack({
      emulator: { jwtTtlS: 3 },
      env: { SESSION_REFRESH_AHEAD_MS: '1000' },
    });
  });

  afterAll(async () => {
    await stack?.close();
  });

  it('steady calls for 30 s never fail', async () => {
    const before = await stack.stats();
    const statuses = new Map<number, number>();
    const endAt = Date.now() + 30_000;
    let calls = 0;
    while (Date.now() < endAt) {
      const response = await stack.request('GET', '/v1/credits');
      statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
      calls += 1;
      await sleep(150);
    }
    const after = await stack.stats();
    const minted = after.tokens_minted - before.tokens_minted;
    console.log(
      `token lifecycle: ${calls} calls over 30 s with a 3 s JWT, ${minted} tokens minted`,
    );

    expect([...statuses.keys()]).toEqual([200]);
    expect(calls).toBeGreaterThan(100);
    expect(minted).toBeGreaterThanOrEqual(8);
    expect(minted).toBeLessThanOrEqual(30);
    // Every fifth Clerk call rotates `__client`, so the gateway must have followed rotations.
    expect(after.stale_client_uses).toBe(0);
    expect((await emulatorAccount(stack)).client_values).toBeGreaterThan(1);
  }, 45_000);
});

describe('single-flight refresh', () => {
  it('fifty calls during the boot login share one mint', async () => {
    const stack = await startStack({
      waitForLogin: false,
      // A slow token call keeps the boot login in flight while the calls arrive.
      beforeGateway: async (emulator) => {
        await fetch(`${emulator.url}/__emulator/faults`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ match: 'clerk_token', action: 'delay', delay_ms: 500, count: 1 }),
        });
      },
    });
    try {
      const responses = await Promise.all(
        Array.from({ length: 50 }, () => stack.request('GET', '/v1/credits')),
      );
      const stats = await stack.stats();

      expect(responses.map((r) => r.status)).toEqual(Array(50).fill(200));
      expect(stats.tokens_minted).toBe(1);
      expect(stats.requests.clerk_client).toBe(1);
      expect(stats.faults_hit).toBe(1);
    } finally {
      await stack.close();
    }
  });

  it('fifty calls with a stale token share one mint', async () => {
    const stack = await startStack({
      emulator: { jwtTtlS: 2 },
      env: { SESSION_REFRESH_AHEAD_MS: '500', SESSION_BACKGROUND_REFRESH: 'false' },
    });
    try {
      // Past exp minus the refresh margin, the next call must refresh.
      await sleep(2_000);
      await stack.fault({ match: 'clerk_token', action: 'delay', delay_ms: 300, count: 1 });
      const before = await stack.stats();

      const responses = await Promise.all(
        Array.from({ length: 50 }, () => stack.request('GET', '/v1/credits')),
      );
      const after = await stack.stats();

      expect(responses.map((r) => r.status)).toEqual(Array(50).fill(200));
      expect(after.tokens_minted - before.tokens_minted).toBe(1);
      expect(after.requests.clerk_client - before.requests.clerk_client).toBe(0);
    } finally {
      await stack.close();
    }
  });
});

describe('running session', () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack();
  });

  afterEach(async () => {
    await stack?.resetUpstream();
  });

  afterAll(async () => {
    await stack?.close();
  });

  it('studio 401 refreshes once and replays once', async () => {
    await stack.fault(UNAUTHORIZED_ONCE);
    const before = await stack.stats();

    const response = await stack.request('GET', '/v1/credits');
    const after = await stack.stats();

    expect(response.status).toBe(200);
    expect(response.body.credits_left).toBe(500);
    expect(after.tokens_minted - before.tokens_minted).toBe(1);
    expect(after.requests.billing - before.requests.billing).toBe(2);
    expect(after.requests.clerk_client - before.requests.clerk_client).toBe(0);
  });

  it('follows rotated cookies and keeps them without Set-Cookie', async () => {
    await stack.patchEmulatorConfig({ rotate_every: 1 });
    const valuesAtStart = (await emulatorAccount(stack)).client_values;

    for (let i = 0; i < 3; i++) {
      await stack.fault(UNAUTHORIZED_ONCE);
      const response = await stack.request('GET', '/v1/credits');
      expect(response.status).toBe(200);
    }
    const rotated = await emulatorAccount(stack);
    expect(rotated.client_values).toBe(valuesAtStart + 3);
    expect((await stack.stats()).stale_client_uses).toBe(0);

    // Without Set-Cookie, the jar must keep the newest value rather than drop it.
    await stack.patchEmulatorConfig({ rotate_every: 0 });
    for (let i = 0; i < 2; i++) {
      await stack.fault(UNAUTHORIZED_ONCE);
      const response = await stack.request('GET', '/v1/credits');
      expect(response.status).toBe(200);
    }
    expect((await emulatorAccount(stack)).client_values).toBe(valuesAtStart + 3);
    expect((await stack.stats()).stale_client_uses).toBe(0);
  });

  it('accounts view shows state and no secrets', async () => {
    const response = await stack.request('GET', '/v1/accounts');

    expect(response.status).toBe(200);
    expect(response.body.accounts).toHaveLength(1);
    const account = response.body.accounts[0];
    expect(account.id).toBe('default');
    expect(account.state).toBe('active');
    expect(account.usable).toBe(true);
    expect(account.state_reason).toEqual(expect.any(String));
    expect(account.state_reason.length).toBeGreaterThan(0);
    expect(Date.parse(account.state_changed_at)).toBeLessThanOrEqual(Date.now());
    expect(Date.parse(account.state_changed_at)).toBeGreaterThan(Date.now() - 5 * 60_000);
    expect(Date.parse(account.token_expires_at)).toBeGreaterThan(Date.now());
    expect(response.text).not.toContain(DEFAULT_ACCOUNT.clientToken);
    expect(response.text).not.toContain(DEFAULT_ACCOUNT.sessionId);
    expect(response.text).not.toContain(TEST_API_KEY);
    expect(response.text).not.toMatch(/eyJ[\w-]+\.[\w-]+\.[\w-]+/);
    expect(response.text).not.toMatch(/cookie/i);
  });
});

describe('signed-out cookie', () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack({
      beforeGateway: async (emulator) => {
        await fetch(`${emulator.url}/__emulator/accounts`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ id: DEFAULT_ACCOUNT.id, signed_out: true }),
        });
      },
    });
  });

  afterAll(async () => {
    await stack?.close();
  });

  it('marks the account needs_relogin', async () => {
    const account = await accountView(stack);

    expect(account.state).toBe('needs_relogin');
    expect(account.usable).toBe(false);
    expect(account.state_reason).toMatch(/no active session/i);
  });

  it('returns 503 ACCOUNT_SESSION_MISSING without generating', async () => {
    const credits = await stack.request('GET', '/v1/credits');
    const generation = await stack.request('POST', '/v1/generations', {
      body: { prompt: 'la la la', mv: 'chirp-v3-5' },
    });

    expectProblem(credits, 503, 'ACCOUNT_SESSION_MISSING');
    expectProblem(generation, 503, 'ACCOUNT_SESSION_MISSING');
    expect((await stack.stats()).requests.generate).toBe(0);
  });
});

describe('revoked session', () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack();
  });

  afterAll(async () => {
    await stack?.close();
  });

  it('marks the account revoked and stops calling Clerk', async () => {
    await stack.upsertEmulatorAccount({ id: DEFAULT_ACCOUNT.id, revoked: true });

    const first = await stack.request('GET', '/v1/credits');
    expectProblem(first, 503, 'ACCOUNT_REVOKED');
    const account = await accountView(stack);
    expect(account.state).toBe('revoked');
    expect(account.usable).toBe(false);

    const before = await stack.stats();
    const second = await stack.request('GET', '/v1/credits');
    const after = await stack.stats();
    expectProblem(second, 503, 'ACCOUNT_REVOKED');
    expect(after.requests.clerk_token).toBe(before.requests.clerk_token);
    expect(after.requests.clerk_client).toBe(before.requests.clerk_client);
    expect(after.requests.billing).toBe(before.requests.billing);
  });
});
