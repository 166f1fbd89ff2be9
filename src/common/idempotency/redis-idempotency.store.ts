import type Redis from 'ioredis';
import { BeginResult, IdempotencyStore, StoredResponse } from './idempotency.store';

interface Record {
  fingerprint: string;
  response?: StoredResponse;
}

/**
 * Idempotency keys shared by every replica. `SET NX` makes `begin` atomic across
 * processes: exactly one request with a key starts, the others see it running or replay it.
 */
export class RedisIdempotencyStore extends IdempotencyStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix = 'suno-gateway:idempotency:',
  ) {
    super();
  }

  async begin(key: string, fingerprint: string, ttlMs: number): Promise<BeginResult> {
    const redisKey = this.prefix + key;
    // Two rounds cover a key that expires between the failed SET NX and the GET.
    for (let round = 0; round < 2; round++) {
      const created = await this.redis.set(
        redisKey,
        JSON.stringify({ fingerprint } satisfies Record),
        'PX',
        ttlMs,
        'NX',
      );
      if (created === 'OK') return { kind: 'started' };
      const raw = await this.redis.get(redisKey);
      if (raw === null) continue;
      const record = JSON.parse(raw) as Record;
      if (record.fingerprint !== fingerprint) return { kind: 'mismatch' };

      return record.response
        ? { kind: 'replay', response: record.response }
        : { kind: 'in_progress' };
    }

    return { kind: 'in_progress' };
  }

  async complete(key: string, response: StoredResponse, ttlMs: number): Promise<void> {
    const redisKey = this.prefix + key;
    const raw = await this.redis.get(redisKey);
    if (raw === null) return;
    const record = JSON.parse(raw) as Record;
    await this.redis.set(
      redisKey,
      JSON.stringify({ fingerprint: record.fingerprint, response } satisfies Record),
      'PX',
      ttlMs,
    );
  }

  async abandon(key: string): Promise<void> {
    await this.redis.del(this.prefix + key);
  }
}
