import Redis from 'ioredis';
import { randomBytes, randomUUID } from 'node:crypto';
import { RedisSessionStore } from './session-store';

/** Runs against the real Redis on 127.0.0.1:6379, as CI provides it. */
describe('RedisSessionStore', () => {
  let redis: Redis;
  let prefix: string;
  let sut: RedisSessionStore;

  beforeAll(() => {
    redis = new Redis('redis://127.0.0.1:6379', { maxRetriesPerRequest: 1 });
    prefix = `test:${randomUUID()}:`;
    sut = new RedisSessionStore(redis, randomBytes(32), prefix);
  });

  afterAll(async () => {
    await redis.quit();
  });

  it('round-trips a rotated cookie', async () => {
    await sut.save('a', '__client=configured', '__client=rotated; __client_uat=2');

    expect(await sut.load('a', '__client=configured')).toBe('__client=rotated; __client_uat=2');
  });

  it('stores the cookie encrypted', async () => {
    await sut.save('b', '__client=configured', '__client=PLAINTEXT-MARKER');

    expect(await redis.get(`${prefix}b`)).not.toContain('PLAINTEXT-MARKER');
  });

  it('ignores a stored session when a new cookie was configured', async () => {
    await sut.save('c', '__client=old-config', '__client=rotated');

    expect(await sut.load('c', '__client=new-config')).toBeUndefined();
  });

  it('ignores a session encrypted with another key', async () => {
    await sut.save('d', '__client=configured', '__client=rotated');
    const other = new RedisSessionStore(redis, randomBytes(32), prefix);

    expect(await other.load('d', '__client=configured')).toBeUndefined();
  });
});
