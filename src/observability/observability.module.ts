import { DynamicModule, Global, Module } from '@nestjs/common';
import { MetricsController } from './metrics.controller';
import { MetricsService } from './metrics.service';

@Global()
@Module({})
export class ObservabilityModule {
  static forRoot(options: { metricsEnabled: boolean }): DynamicModule {
    return {
      module: ObservabilityModule,
      controllers: options.metricsEnabled ? [MetricsController] : [],
      providers: [MetricsService],
      exports: [MetricsService],
    };
  }
}
