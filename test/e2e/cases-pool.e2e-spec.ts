/**
 * Pools of several accounts against account-level refusals that users of other Suno gateways
 * met: the captcha gate, running-job limits, empty credits, models outside the plan, and a
 * pool where only one account is healthy.
 */
import {
  accountViews,
  generateDirectly,
  emulatorControl,
  metricValue,
  routeDelta,
  startPool,
  type PoolStack,
} from './support/cases-support';
import { eventually } from './support/harness';
import { expectProblem } from './support/problem';

jest.setTimeout(30_000);

const SONG = {
  prompt: '[Verse]\nPaper planes over the schoolyard',
  title: 'Paper Planes',
  tags: 'indie pop',
  mv: 'chirp-v3-5',
};

describe('captcha gate across a pool', () => {
  let stack: PoolStack;

  beforeAll(async () => {
    stack = await startPool({
      accounts: [{ id: 'a' }, { id: 'b' }],
      emulator: { generationS: 1 },
      // After one generate, the emulator demands a captcha token from that account.
      beforeGateway: (emulator) =>
        emulatorControl(emulator, 'PATCH', '/config', { captcha_after_generations: 1 }),
    });
  });

  afterAll(async () => {
    await stack?.close();
  });

  it('rotates past the gated account once', async () => {
    const first = await stack.request('POST', '/v1/generations?wait=true', { body: SONG });
    const beforeSecond = await stack.stats();

    const second = await stack.request('POST', '/v1/generations?wait=true', { body: SONG });

    expect(first.status).toBe(200);
    expect(first.body.account).toBe('a');
    expect(second.status).toBe(200);
    expect(second.body.account).toBe('b');
    expect(routeDelta(beforeSecond, await stack.stats()).generate).toBe(2);
    const views = await accountViews(stack);
    expect(views.a).toMatchObject({ state: 'captcha_required', usable: false });
    expect(views.a.state_reason).toMatch(/captcha/);
    expect(views.b.state).toBe('active');
  });

  it('returns 503 CAPTCHA_REQUIRED when all are gated', async () => {
    const before = await stack.stats();

    const lastAccount = await stack.request('POST', '/v1/generations', { body: SONG });
    const afterLast = await stack.stats();
    const noneLeft = await stack.request('POST', '/v1/generations', { body: SONG });

    expectProblem(lastAccount, 503, 'CAPTCHA_REQUIRED');
    expect(Number(lastAccount.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(routeDelta(before, afterLast).generate).toBe(1);
    expectProblem(noneLeft, 503, 'CAPTCHA_REQUIRED');
    expect(noneLeft.body.detail).toMatch(/a: captcha_required .*b: captcha_required/);
    expect(routeDelta(afterLast, await stack.stats()).generate).toBeUndefined();
    for (const account of ['a', 'b']) {
      expect(
        await metricValue(stack, 'suno_account_state', { account, state: 'captcha_required' }),
      ).toBe(1);
    }
  });

  it('caller captcha token re-admits an account', async () => {
    const before = await stack.stats();

    const created = await stack.request('POST', '/v1/generations', {
      body: { ...SONG, captcha_token: 'P1_solved-by-the-caller' },
    });

    expect(created.status).toBe(202);
    expect(routeDelta(before, await stack.stats()).generate).toBe(1);
    const views = await accountViews(stack);
    expect(views[created.body.account].state).toBe('active');
  });
});

describe('running generations per account', () => {
  let stack: PoolStack;

  beforeAll(async () => {
    // Songs take 20 s, so every generation of the test is still running when the next starts.
    stack = await startPool({
      accounts: [{ id: 'a' }, { id: 'b' }],
      emulator: { generationS: 20 },
    });
  });

  afterAll(async () => {
    await stack?.close();
  });

  it('picks the least-loaded account', async () => {
    const accounts: string[] = [];
    for (let i = 0; i < 4; i++) {
      const created = await stack.request('POST', '/v1/generations', {
        body: { ...SONG, title: `Load ${i}` },
      });
      expect(created.status).toBe(202);
      accounts.push(created.body.account);
    }

    expect(accounts).toEqual(['a', 'b', 'a', 'b']);
    expect((await stack.stats()).running).toEqual({ a: 2, b: 2 });
  });
});

describe('account out of credits', () => {
  let stack: PoolStack;

  beforeAll(async () => {
    stack = await startPool({
      accounts: [{ id: 'a', credits: 0 }, { id: 'b' }],
      emulator: { generationS: 1 },
    });
  });

  afterAll(async () => {
    await stack?.close();
  });

  it('skips the account without credits', async () => {
    const before = await stack.stats();

    const first = await stack.request('POST', '/v1/generations?wait=true', { body: SONG });
    const afterFirst = await stack.stats();
    const second = await stack.request('POST', '/v1/generations?wait=true', { body: SONG });

    expect(first.status).toBe(200);
    expect(first.body.account).toBe('b');
    expect(routeDelta(before, afterFirst).generate).toBe(2);
    expect(second.body.account).toBe('b');
    expect(routeDelta(afterFirst, await stack.stats()).generate).toBe(1);
    const views = await accountViews(stack);
    expect(views.a).toMatchObject({ state: 'no_credits', usable: false });
    expect(views.a.state_reason).toMatch(/insufficient credits/);
  });

  it('billing with credits re-admits the account', async () => {
    await stack.upsertEmulatorAccount({ id: 'a', credits: 200 });

    const credits = await stack.request('GET', '/v1/credits');

    expect(credits.status).toBe(200);
    expect(credits.body.accounts.find((row: { id: string }) => row.id === 'a').credits_left).toBe(
      200,
    );
    expect((await accountViews(stack)).a.state).toBe('active');
  });

  it('treats empty clips without credits as 402', async () => {
    await stack.upsertEmulatorAccount({ id: 'a', credits: 0 });
    await stack.fault({
      match: 'generate',
      action: 'status',
      status: 200,
      body: { id: 'batch', clips: [] },
      count: 1,
    });
    const before = await stack.stats();

    const created = await stack.request('POST', '/v1/generations', { body: SONG });

    expect(created.status).toBe(202);
    expect(created.body.account).toBe('b');
    expect(routeDelta(before, await stack.stats())).toMatchObject({ generate: 2, billing: 1 });
    const views = await accountViews(stack);
    expect(views.a.state).toBe('no_credits');
    expect(views.a.state_reason).toMatch(/insufficient credits/);
  });
});

describe('model outside the plan', () => {
  let stack: PoolStack;

  beforeAll(async () => {
    stack = await startPool({ accounts: [{ id: 'free', plan: 'free' }, { id: 'pro' }] });
  });

  afterAll(async () => {
    await stack?.close();
  });

  it('routes a paid model to pro', async () => {
    const before = await stack.stats();

    const created = await stack.request('POST', '/v1/generations', {
      body: { ...SONG, mv: 'chirp-v4' },
    });

    expect(created.status).toBe(202);
    expect(created.body.account).toBe('pro');
    expect(routeDelta(before, await stack.stats()).generate).toBe(2);
    // The free account still serves models of its plan.
    expect((await accountViews(stack)).free.state).toBe('active');
  });

  it('returns 403 MODEL_NOT_ALLOWED on free accounts', async () => {
    await stack.upsertEmulatorAccount({ id: 'pro', plan: 'free' });
    const before = await stack.stats();

    const created = await stack.request('POST', '/v1/generations', {
      body: { ...SONG, mv: 'chirp-v4' },
    });

    expectProblem(created, 403, 'MODEL_NOT_ALLOWED');
    expect(created.body.upstream_status).toBe(400);
    expect(routeDelta(before, await stack.stats()).generate).toBe(2);
  });
});

describe('pool with one healthy account', () => {
  const COOLDOWN_MS = 2_000;
  /** Generations after which the emulator gates an account. b reaches it before the tests start. */
  const GATE_AFTER = 6;
  let stack: PoolStack;

  beforeAll(async () => {
    stack = await startPool({
      accounts: [{ id: 'a', credits: 0 }, { id: 'b' }, { id: 'c' }],
      emulator: { generationS: 1 },
      env: { CAPTCHA_COOLDOWN_MS: String(COOLDOWN_MS) },
      beforeGateway: async (emulator) => {
        const b = [...emulator.state.accounts.values()].find((account) => account.id === 'b')!;
        await generateDirectly(emulator, b.clientValues[0], GATE_AFTER);
        await emulatorControl(emulator, 'PATCH', '/config', {
          captcha_after_generations: GATE_AFTER,
        });
      },
    });
  });

  afterAll(async () => {
    await stack?.close();
  });

  it('healthy account serves all five', async () => {
    const before = await stack.stats();
    const created = [];
    for (let i = 0; i < 5; i++)
      created.push(
        await stack.request('POST', '/v1/generations', { body: { ...SONG, title: `Pool ${i}` } }),
      );

    expect(created.map((response) => [response.status, response.body.account])).toEqual(
      Array(5).fill([202, 'c']),
    );
    // The first request tried a (402) and b (422) once each, and later ones went to c alone.
    expect(routeDelta(before, await stack.stats()).generate).toBe(7);
    const ready = await stack.request('GET', '/health/ready', { auth: false });
    const byId = Object.fromEntries(
      (ready.body.details.accounts.accounts as Record<string, any>[]).map((a) => [a.id, a]),
    );
    expect(byId.a).toMatchObject({
      state: 'no_credits',
      usable: false,
      reason: expect.stringMatching(/credits/),
    });
    expect(byId.b).toMatchObject({
      state: 'captcha_required',
      usable: false,
      reason: expect.stringMatching(/captcha/),
    });
    expect(byId.c).toMatchObject({ state: 'active', usable: true });

    for (const response of created) {
      const done = await stack.request(
        'GET',
        `/v1/generations/${response.body.id}?wait=true&timeout_s=10`,
      );
      expect(done.body.status).toBe('complete');
    }
  });

  it('gated account serves after its cool-down', async () => {
    await stack.patchEmulatorConfig({ captcha_after_generations: null });
    await eventually(
      async () => ((await accountViews(stack)).b.usable ? true : undefined),
      'the cool-down of b to end',
      COOLDOWN_MS + 2_000,
      100,
    );

    const created = await stack.request('POST', '/v1/generations', { body: SONG });

    expect(created.status).toBe(202);
    expect(created.body.account).toBe('b');
    const views = await accountViews(stack);
    expect(views.b.state).toBe('active');
    expect(views.a.state).toBe('no_credits');
  });
});
