import { Global, Inject, Module, OnApplicationShutdown, Optional } from '@nestjs/common';
import type Redis from 'ioredis';
import { REDIS_CLIENT, redisProvider } from '../health/redis.provider';

/** The shared Redis client (or null without REDIS_URL), closed when the app shuts down. */
@Global()
@Module({
  providers: [redisProvider],
  exports: [REDIS_CLIENT],
})
export class RedisModule implements OnApplicationShutdown {
  constructor(@Optional() @Inject(REDIS_CLIENT) private readonly redis?: Redis | null) {}

  async onApplicationShutdown(): Promise<void> {
    if (this.redis && this.redis.status !== 'end')
      await this.redis.quit().catch(() => this.redis?.disconnect());
  }
}
