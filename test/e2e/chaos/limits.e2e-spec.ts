/**
 * Local limits and an unreachable studio: a full bulkhead rejects at once with 429, and a
 * refused connection is retried with backoff (even for submits, which it provably never
 * reached) before the client gets 503.
 */
import net from 'node:net';
import { GATEWAY_ACCOUNT, Rig, metricValue, startRig } from './support';

jest.setTimeout(30_000);

describe('bulkhead', () => {
  const LIMIT = 2;
  let rig: Rig;

  beforeAll(async () => {
    rig = await startRig({
      env: { BULKHEAD_LIMIT: String(LIMIT), BULKHEAD_QUEUE: '0' },
      // Generations run for 30 s, so their slots stay taken for the whole test.
      emulator: { generationS: 30 },
    });
  });

  afterAll(async () => {
    await rig?.close();
  });

  it('rejects excess creates with 429', async () => {
    const before = await rig.control.stats();
    const rejectionsBefore = await metricValue(rig.gateway, 'suno_bulkhead_rejections_total', {
      account: GATEWAY_ACCOUNT,
    });

    const answers = await Promise.all(
      Array.from({ length: 5 }, (_, i) =>
        rig.gateway.request('/v1/generations', {
          body: { prompt: `slot ${i}`, title: `slot ${i}`, tags: 'chaos' },
        }),
      ),
    );

    const after = await rig.control.stats();
    const created = answers.filter((a) => a.status === 202);
    const rejected = answers.filter((a) => a.status === 429);
    expect(created).toHaveLength(LIMIT);
    expect(rejected).toHaveLength(5 - LIMIT);
    for (const answer of rejected) {
      expect(answer.headers['content-type']).toContain('application/problem+json');
      expect(answer.json.code).toBe('RATE_LIMITED');
      expect(Number(answer.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    }
    expect(after.requests.generate - before.requests.generate).toBe(LIMIT);
    expect(after.generations - before.generations).toBe(LIMIT);
    expect(
      await metricValue(rig.gateway, 'suno_bulkhead_rejections_total', {
        account: GATEWAY_ACCOUNT,
      }),
    ).toBe(rejectionsBefore + 5 - LIMIT);
  });
});

describe('connection refused', () => {
  const BACKOFF_BASE_MS = 50;
  let rig: Rig;

  beforeAll(async () => {
    rig = await startRig({
      // The session still comes from the emulator; only studio calls go to the closed port.
      baseUrl: `http://127.0.0.1:${await closedPort()}`,
      env: {
        RETRY_MAX_ATTEMPTS: '3',
        RETRY_BACKOFF_BASE_MS: String(BACKOFF_BASE_MS),
        RETRY_BACKOFF_MAX_MS: '400',
        RETRY_BUDGET_MIN_RETRIES: '1000',
        BREAKER_THRESHOLD: '1000',
      },
    });
  });

  afterAll(async () => {
    await rig?.close();
  });

  it('retries reads with backoff', async () => {
    const answers = [];
    for (let i = 0; i < 5; i++) answers.push(await rig.gateway.request('/v1/credits'));

    for (const answer of answers) {
      expect(answer.status).toBe(503);
      expect(answer.headers['content-type']).toContain('application/problem+json');
      expect(answer.json.code).toBe('UPSTREAM_UNAVAILABLE');
      expect(Number(answer.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    }
    const retries = rig.logs
      .events('upstream.retry')
      .filter((line) => line.operation === 'billing');
    expect(retries).toHaveLength(10);
    for (const retry of retries) {
      expect(retry.error_kind).toBe('connect');
      expect(retry.reason).toBe('connect');
      // Full jitter draws from [0, base × 2^(retry − 1)).
      expect(retry.delay_ms).toBeLessThan(BACKOFF_BASE_MS * 2 ** (retry.attempts - 1));
    }
    expect(retries.reduce((sum, retry) => sum + retry.delay_ms, 0)).toBeGreaterThan(0);
  });

  it('retries a submit never sent', async () => {
    const answer = await rig.gateway.request('/v1/generations', {
      body: { prompt: 'never sent', title: 'refused', tags: 'chaos' },
    });

    expect(answer.status).toBe(503);
    expect(answer.json.code).toBe('UPSTREAM_UNAVAILABLE');
    const retries = rig.logs
      .events('upstream.retry')
      .filter((line) => line.operation === 'generate');
    expect(retries).toHaveLength(2);
    for (const retry of retries) expect(retry.error_kind).toBe('connect');
    expect(
      await metricValue(rig.gateway, 'suno_upstream_retries_total', {
        operation: 'generate',
        reason: 'connect',
      }),
    ).toBe(2);
  });
});

/** Returns a port on 127.0.0.1 that nothing listens on, so connecting to it is refused. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve, reject) =>
    server.close((err) => (err ? reject(err) : resolve())),
  );

  return port;
}
