import { Global, Module } from '@nestjs/common';
import type Redis from 'ioredis';
import { REDIS_CLIENT } from '../../health/redis.provider';
import { IdempotencyInterceptor } from './idempotency.interceptor';
import { IdempotencyStore, MemoryIdempotencyStore } from './idempotency.store';
import { RedisIdempotencyStore } from './redis-idempotency.store';

/**
 * The Idempotency-Key store, shared by every replica through Redis when REDIS_URL is set.
 * Global because the interceptor is attached per route in several feature modules.
 */
@Global()
@Module({
  providers: [
    {
      provide: IdempotencyStore,
      inject: [REDIS_CLIENT],
      useFactory: (redis: Redis | null) =>
        redis ? new RedisIdempotencyStore(redis) : new MemoryIdempotencyStore(),
    },
    IdempotencyInterceptor,
  ],
  exports: [IdempotencyStore, IdempotencyInterceptor],
})
export class IdempotencyModule {}
