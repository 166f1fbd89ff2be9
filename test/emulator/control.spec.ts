import { DEFAULT_ACCOUNT } from './accounts';
import type { RunningEmulator } from './server';
import { control, generate, mintJwt, readJson, startQuiet, stats, studio } from './spec-helpers';

describe('control API', () => {
  let emulator: RunningEmulator;

  beforeEach(async () => {
    emulator = await startQuiet({ generationS: 60 });
  });

  afterEach(async () => {
    await emulator.close();
  });

  it('counts requests per route', async () => {
    const jwt = await mintJwt(emulator);
    await studio(emulator, jwt, '/api/billing/info/');
    await studio(emulator, jwt, '/api/feed/v2');
    await studio(emulator, jwt, '/api/feed/?ids=a');
    await control(emulator, 'GET', '/faults');
    const snapshot = await stats(emulator);

    expect(snapshot.requests).toMatchObject({
      clerk_token: 1,
      billing: 1,
      feed: 2,
      generate: 0,
      unknown: 0,
    });
    expect(Object.keys(snapshot.requests)).not.toContain('control');
    expect(snapshot).toMatchObject({
      generations: 0,
      clips: 0,
      tokens_minted: 1,
      credits: { demo: 500 },
    });
  });

  it('patches config and rejects invalid values', async () => {
    const patched = await control(emulator, 'PATCH', '/config', {
      generation_s: 5,
      blocked_words: ['Beatles'],
    });
    const invalid = await control(emulator, 'PATCH', '/config', { running_job_cap: -1 });
    const unknown = await control(emulator, 'PATCH', '/config', { generation_seconds: 5 });

    expect(patched.status).toBe(200);
    expect(await patched.json()).toMatchObject({
      generation_s: 5,
      blocked_words: ['beatles'],
      jwt_ttl_s: 60,
    });
    expect(invalid.status).toBe(400);
    expect((await readJson<{ detail: string }>(invalid)).detail).toMatch(
      /running_job_cap must be at least 0/,
    );
    expect(unknown.status).toBe(400);
    expect((await readJson<{ detail: string }>(unknown)).detail).toMatch(/generation_seconds/);
  });

  it('adds an account from a whole Cookie header', async () => {
    const created = await control(emulator, 'POST', '/accounts', {
      id: 'second',
      cookie: '_ga=GA1.1.1; __client=second-client-value; __client_uat=1700000000',
      credits: 20,
      session_id: 'sess_second',
      plan: 'free',
    });
    const body = await readJson(created);
    const jwt = await mintJwt(emulator, 'second-client-value', 'sess_second');
    const billing = await readJson(await studio(emulator, jwt, '/api/billing/info/'));

    expect(created.status).toBe(200);
    expect(body).toMatchObject({
      id: 'second',
      credits: 20,
      plan: 'free',
      session_id: 'sess_second',
    });
    expect(JSON.stringify(body)).not.toContain('second-client-value');
    expect(billing).toMatchObject({ total_credits_left: 20, period: null });
  });

  it('replaces the cookie of an existing account', async () => {
    await control(emulator, 'POST', '/accounts', { id: 'demo', cookie: 'fresh-value' });

    await expect(mintJwt(emulator)).rejects.toThrow(/401/);
    expect(await mintJwt(emulator, 'fresh-value')).toMatch(/^ey/);
  });

  it('rejects invalid account bodies', async () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ id: 'new-one', credits: 5 }, /cookie is required/],
      [{ id: 'demo', plan: 'gold' }, /plan must be/],
      [{ id: '' }, /id must not be empty/],
      [{ id: 'demo', cookie: 'a=b; c=d' }, /__client/],
      [{ id: 'demo', credits: -5 }, /credits must be at least 0/],
    ];
    for (const [body, reason] of cases) {
      const response = await control(emulator, 'POST', '/accounts', body);
      expect(response.status).toBe(400);
      expect((await readJson<{ detail: string }>(response)).detail).toMatch(reason);
    }
  });

  it('resets state, stats, faults and config', async () => {
    const jwt = await mintJwt(emulator);
    await generate(emulator, jwt);
    await control(emulator, 'PATCH', '/config', { generation_s: 1 });
    await control(emulator, 'POST', '/faults', { match: 'clip', action: 'hang' });
    await control(emulator, 'POST', '/accounts', { id: 'extra', cookie: 'extra-client' });

    expect((await control(emulator, 'POST', '/reset')).status).toBe(200);
    const snapshot = await stats(emulator);
    const config = await readJson(await control(emulator, 'GET', '/config'));
    const faults = await readJson<{ faults: unknown[] }>(await control(emulator, 'GET', '/faults'));
    expect(snapshot).toMatchObject({
      generations: 0,
      clips: 0,
      tokens_minted: 0,
      credits: { demo: 500 },
    });
    expect(Object.keys(snapshot.credits)).toEqual(['demo']);
    expect(config.generation_s).toBe(60);
    expect(faults.faults).toEqual([]);
    expect(emulator.state.clips.size).toBe(0);
  });

  it('answers 404 for unknown control paths', async () => {
    expect((await control(emulator, 'GET', '/nothing')).status).toBe(404);
  });
});

describe('start options', () => {
  it('uses the given accounts and public URL', async () => {
    const emulator = await startQuiet({
      generationS: 0.05,
      publicUrl: 'http://emulator.test:9999/',
      accounts: [
        { id: 'solo', cookie: 'solo-client', sessionId: 'sess_solo', credits: 30, plan: 'free' },
      ],
    });
    try {
      const jwt = await mintJwt(emulator, 'solo-client', 'sess_solo');
      const batch = await generate(emulator, jwt);
      await new Promise((resolve) => setTimeout(resolve, 100));
      const clip = await readJson<{ audio_url: string }>(
        await studio(emulator, jwt, `/api/clip/${batch.clips[0].id}`),
      );

      expect(clip.audio_url).toBe(`http://emulator.test:9999/cdn/${batch.clips[0].id}.mp3`);
      expect((await stats(emulator)).credits).toEqual({ solo: 20 });
      await expect(mintJwt(emulator, DEFAULT_ACCOUNT.clientToken)).rejects.toThrow(/401/);
    } finally {
      await emulator.close();
    }
  });

  it('gives the default account a realistic Cookie header', () => {
    expect(DEFAULT_ACCOUNT.id).toBe('demo');
    expect(DEFAULT_ACCOUNT.sessionId).toMatch(/^sess_demo/);
    expect(DEFAULT_ACCOUNT.clientToken.split('.')).toHaveLength(3);
    expect(DEFAULT_ACCOUNT.cookie).toContain(`__client=${DEFAULT_ACCOUNT.clientToken};`);
    expect(DEFAULT_ACCOUNT.cookie).toMatch(/__client_uat=\d+/);
    expect(DEFAULT_ACCOUNT.cookie).toMatch(/ajs_anonymous_id=/);
  });

  it('rejects an invalid environment value', async () => {
    process.env.EMULATOR_GENERATION_S = 'soon';
    try {
      await expect(startQuiet()).rejects.toThrow(/EMULATOR_GENERATION_S="soon"/);
    } finally {
      delete process.env.EMULATOR_GENERATION_S;
    }
  });
});
