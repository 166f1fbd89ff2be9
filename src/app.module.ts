import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import { AccountModule } from './account/account.module';
import { ApiKeyGuard } from './common/api-key.guard';
import { IdempotencyModule } from './common/idempotency/idempotency.module';
import { ProblemFilter } from './common/problem.filter';
import { RedisModule } from './common/redis.module';
import { CompatModule } from './compat/compat.module';
import { AppConfig } from './config/app-config';
import { ConfigModule } from './config/config.module';
import { GenerationModule } from './generation/generation.module';
import { HealthModule } from './health/health.module';
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
        IdempotencyModule,
        ResilienceModule,
        HealthModule,
        GenerationModule,
        LyricsModule,
        AccountModule,
        CompatModule,
      ],
      providers: [
        { provide: APP_GUARD, useClass: ApiKeyGuard },
        { provide: APP_FILTER, useClass: ProblemFilter },
      ],
    };
  }
}
