import { Module } from '@nestjs/common';
import { ResilienceService } from './resilience.service';

/**
 * Provides {@link ResilienceService}. `APP_CONFIG` and `MetricsService` come from global
 * modules of the app, so this module imports nothing.
 */
@Module({
  providers: [ResilienceService],
  exports: [ResilienceService],
})
export class ResilienceModule {}
