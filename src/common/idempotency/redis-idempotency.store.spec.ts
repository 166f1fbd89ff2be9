import Redis from 'ioredis';
import { randomUUID } from 'node:crypto';
import { RedisIdempotencyStore } from './redis-idempotency.store';

/** Runs against the real Redis on 127.0.0.1:6379, as CI provides it. */
describe('RedisIdempotencyStore', () => {
  let redis: Redis;
  let sut: RedisIdempotencyStore;

  beforeAll(() => {
    redis = new Redis('redis://127.0.0.1:6379', { maxRetriesPerRequest: 1 });
    sut = new RedisIdempotencyStore(redis, `test:${randomUUID()}:`);
  });

  afterAll(async () => {
    await redis.quit();
  });

  it('starts a new key once', async () => {
    const key = randomUUID();

    expect(await sut.begin(key, 'fp', 10_000)).toEqual({ kind: 'started' });
    expect(await sut.begin(key, 'fp', 10_000)).toEqual({ kind: 'in_progress' });
  });

  it('lets exactly one of many concurrent begins start', async () => {
    const key = randomUUID();
    const results = await Promise.all(
      Array.from({ length: 20 }, () => sut.begin(key, 'fp', 10_000)),
    );

    expect(results.filter((r) => r.kind === 'started')).toHaveLength(1);
    expect(results.filter((r) => r.kind === 'in_progress')).toHaveLength(19);
  });

  it('replays a completed answer', async () => {
    const key = randomUUID();
    await sut.begin(key, 'fp', 10_000);
    await sut.complete(key, { status: 201, body: { id: 'g1' } }, 10_000);

    expect(await sut.begin(key, 'fp', 10_000)).toEqual({
      kind: 'replay',
      response: { status: 201, body: { id: 'g1' } },
    });
  });

  it('reports a different body as mismatch', async () => {
    const key = randomUUID();
    await sut.begin(key, 'fp-a', 10_000);

    expect(await sut.begin(key, 'fp-b', 10_000)).toEqual({ kind: 'mismatch' });
  });

  it('forgets an abandoned key', async () => {
    const key = randomUUID();
    await sut.begin(key, 'fp', 10_000);
    await sut.abandon(key);

    expect(await sut.begin(key, 'fp', 10_000)).toEqual({ kind: 'started' });
  });

  it('expires keys after the ttl', async () => {
    const key = randomUUID();
    await sut.begin(key, 'fp', 50);
    await new Promise((resolve) => setTimeout(resolve, 120));

    expect(await sut.begin(key, 'fp', 10_000)).toEqual({ kind: 'started' });
  });
});
