import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, APP_INTERCEPTOR } from '@nestjs/core';
import { AccountModule } from './account/account.module';
import { ApiKeyGuard } from './common/api-key.guard';
import { IdempotencyInterceptor } from './common/idempotency/idempotency.interceptor';
import { IdempotencyStore, MemoryIdempotencyStore } from './common/idempotency/idempotency.store';
import { RedisIdempotencyStore } from './common/idempotency/redis-idempotency.store';
import { ProblemFilter } from './common/problem.filter';
import { RedisModule } from './common/redis.module';
import { CompatModule } from './compat/compat.module';
import { AppConfig } from './config/app-config';
import { ConfigModule } from './config/config.module';
import { GenerationModule } from './generation/generation.module';
import { HealthModule } from './health/health.module';
import { REDIS_CLIENT } from './health/redis.provider';
import type Redis from 'ioredis';
import { LyricsModule } from './lyrics/lyrics.module';
import { ObservabilityModule } from './observability/observability.module';
import { ResilienceModule } from './resilience/resilience.module';

@Module({})
export class AppModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        ObservabilityModule.forRoot({ metricsEnabled: config.metrics.enabled }),
        RedisModule,
        ResilienceModule,
        HealthModule,
        GenerationModule,
        LyricsModule,
        AccountModule,
        CompatModule,
      ],
      providers: [
        {
          provide: IdempotencyStore,
          inject: [REDIS_CLIENT],
          useFactory: (redis: Redis | null) =>
            redis ? new RedisIdempotencyStore(redis) : new MemoryIdempotencyStore(),
        },
        { provide: APP_GUARD, useClass: ApiKeyGuard },
        { provide: APP_INTERCEPTOR, useClass: IdempotencyInterceptor },
        { provide: APP_FILTER, useClass: ProblemFilter },
      ],
    };
  }
}
