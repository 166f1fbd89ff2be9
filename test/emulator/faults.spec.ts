import type { RunningEmulator } from './server';
import { control, mintJwt, readJson, sleep, startQuiet, stats, studio } from './spec-helpers';

describe('faults', () => {
  let emulator: RunningEmulator;
  let jwt: string;

  beforeEach(async () => {
    emulator = await startQuiet({ generationS: 60 });
    jwt = await mintJwt(emulator);
  });

  afterEach(async () => {
    await emulator.close();
  });

  async function addFault(spec: Record<string, unknown>): Promise<string> {
    const response = await control(emulator, 'POST', '/faults', spec);
    const body = await readJson<{ id: string; detail?: string }>(response);
    if (response.status !== 200) throw new Error(`fault rejected: ${body.detail}`);

    return body.id;
  }

  const billing = (): Promise<Response> => studio(emulator, jwt, '/api/billing/info/');
  const submit = (): Promise<Response> =>
    studio(emulator, jwt, '/api/generate/v2/', { prompt: 'x' });

  it('answers a status fault', async () => {
    await addFault({
      match: 'generate',
      action: 'status',
      status: 503,
      body: '<html>down</html>',
      content_type: 'text/html',
      retry_after: 30,
    });
    const response = await submit();

    expect(response.status).toBe(503);
    expect(response.headers.get('content-type')).toBe('text/html');
    expect(response.headers.get('retry-after')).toBe('30');
    expect(await response.text()).toBe('<html>down</html>');
    expect((await stats(emulator)).generations).toBe(0);
  });

  it('formats status fault bodies', async () => {
    await addFault({ match: 'billing', action: 'status', status: 429, count: 1 });
    await addFault({
      match: 'billing',
      action: 'status',
      status: 500,
      body: { message: 'x' },
      count: 1,
    });
    await addFault({ match: 'billing', action: 'status', status: 403, body: '', count: 1 });

    expect(await (await billing()).json()).toEqual({ detail: 'Too Many Requests' });
    expect(await (await billing()).json()).toEqual({ message: 'x' });
    expect(await (await billing()).text()).toBe('');
    expect((await billing()).status).toBe(200);
  });

  it('delays a response then answers normally', async () => {
    await addFault({ match: 'billing', action: 'delay', delay_ms: 300 });
    const started = Date.now();
    const response = await billing();

    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect(response.status).toBe(200);
  });

  it('hangs until the client aborts', async () => {
    await addFault({ match: 'feed', action: 'hang', count: 1 });
    const started = Date.now();
    const hung = fetch(`${emulator.url}/api/feed/v2`, {
      headers: { authorization: `Bearer ${jwt}` },
      signal: AbortSignal.timeout(300),
    });

    await expect(hung).rejects.toThrow(/aborted|timeout/i);
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect((await studio(emulator, jwt, '/api/feed/v2')).status).toBe(200);
    expect((await stats(emulator)).requests.feed).toBe(2);
  });

  it('closes while a request hangs', async () => {
    await addFault({ match: '*', action: 'hang' });
    const hung = fetch(`${emulator.url}/api/feed/v2`);
    hung.catch(() => undefined);
    await sleep(50);
    await emulator.close();

    await expect(hung).rejects.toThrow('fetch failed');
  });

  it('reset_before skips the work', async () => {
    await addFault({ match: 'generate', action: 'reset_before', count: 1 });

    await expect(submit()).rejects.toThrow();
    const after = await stats(emulator);
    expect(after.generations).toBe(0);
    expect(after.credits.demo).toBe(500);
  });

  it('reset_after does the work', async () => {
    await addFault({ match: 'generate', action: 'reset_after', count: 1 });

    await expect(submit()).rejects.toThrow();
    const after = await stats(emulator);
    const feed = await readJson<{ clips: unknown[] }>(await studio(emulator, jwt, '/api/feed/v2'));
    expect(after.generations).toBe(1);
    expect(after.credits.demo).toBe(490);
    expect(feed.clips).toHaveLength(2);
  });

  it('stops after count hits and lists hits', async () => {
    const id = await addFault({ match: 'billing', action: 'status', status: 500, count: 2 });
    const statuses = [];
    for (let i = 0; i < 3; i += 1) statuses.push((await billing()).status);
    const list = await readJson<{ faults: Record<string, unknown>[] }>(
      await control(emulator, 'GET', '/faults'),
    );

    expect(statuses).toEqual([500, 500, 200]);
    expect(list.faults).toEqual([expect.objectContaining({ id, hits: 2, active: false })]);
    expect((await stats(emulator)).faults_hit).toBe(2);
  });

  it('lets the first after requests through', async () => {
    await addFault({ match: 'billing', action: 'status', status: 401, after: 2 });
    const statuses = [];
    for (let i = 0; i < 3; i += 1) statuses.push((await billing()).status);

    expect(statuses).toEqual([200, 200, 401]);
  });

  it('hits a seeded share of requests repeatably', async () => {
    async function pattern(): Promise<number[]> {
      await control(emulator, 'DELETE', '/faults');
      await addFault({ match: 'billing', action: 'status', status: 500, rate: 0.5, seed: 42 });
      const statuses = [];
      for (let i = 0; i < 40; i += 1) statuses.push((await billing()).status);

      return statuses;
    }
    const first = await pattern();
    const second = await pattern();
    const hits = first.filter((status) => status === 500).length;

    expect(second).toEqual(first);
    expect(hits).toBeGreaterThanOrEqual(10);
    expect(hits).toBeLessThanOrEqual(30);
  });

  it('never hits with rate 0', async () => {
    await addFault({ match: 'billing', action: 'status', status: 500, rate: 0 });

    for (let i = 0; i < 10; i += 1) expect((await billing()).status).toBe(200);
  });

  it('expires after duration_ms', async () => {
    await addFault({ match: 'billing', action: 'status', status: 429, duration_ms: 150 });

    expect((await billing()).status).toBe(429);
    await sleep(200);
    expect((await billing()).status).toBe(200);
  });

  it('applies the oldest matching fault first', async () => {
    await addFault({ match: 'billing', action: 'status', status: 500, count: 1 });
    await addFault({ match: '*', action: 'status', status: 503, count: 1 });

    expect((await billing()).status).toBe(500);
    expect((await billing()).status).toBe(503);
    expect((await billing()).status).toBe(200);
  });

  it('matches every non-control route with a star', async () => {
    await addFault({
      match: '*',
      action: 'status',
      status: 403,
      body: '<html>gone</html>',
      content_type: 'text/html',
    });

    expect((await fetch(`${emulator.url}/v1/client`)).status).toBe(403);
    expect((await fetch(`${emulator.url}/no/such/path`)).status).toBe(403);
    expect((await control(emulator, 'GET', '/stats')).status).toBe(200);
  });

  it('rejects invalid fault specs with a reason', async () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ match: 'nope', action: 'hang' }, /match must be/],
      [{ match: 'feed', action: 'explode' }, /action must be/],
      [{ match: 'feed', action: 'status' }, /status is required/],
      [{ match: 'feed', action: 'status', status: 99 }, /status must be at least 100/],
      [{ match: 'feed', action: 'delay' }, /delay_ms is required/],
      [{ match: 'feed', action: 'hang', rate: 2 }, /rate must be at most 1/],
      [{ match: 'feed', action: 'hang', status: 500 }, /status applies only/],
      [{ match: 'feed', action: 'hang', delayMs: 5 }, /unknown field\(s\): delayMs/],
      [{ match: 'feed', action: 'hang', count: 0 }, /count must be at least 1/],
    ];
    for (const [spec, reason] of cases) {
      const response = await control(emulator, 'POST', '/faults', spec);
      expect(response.status).toBe(400);
      expect((await readJson<{ detail: string }>(response)).detail).toMatch(reason);
    }
    const broken = await fetch(`${emulator.url}/__emulator/faults`, { method: 'POST', body: '{' });
    expect(broken.status).toBe(400);
  });

  it('clears faults on DELETE', async () => {
    await addFault({ match: 'billing', action: 'status', status: 500 });
    await control(emulator, 'DELETE', '/faults');
    const list = await readJson<{ faults: unknown[] }>(await control(emulator, 'GET', '/faults'));

    expect(list.faults).toEqual([]);
    expect((await billing()).status).toBe(200);
  });
});
