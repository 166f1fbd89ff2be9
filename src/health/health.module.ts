import { Global, Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { GenerationModule } from '../generation/generation.module';
import { SunoModule } from '../suno/suno.module';
import { HealthController } from './health.controller';
import { HealthIndicators } from './health.indicators';
import { ShutdownState } from './shutdown-state';
import { WaitRelease } from './wait-release';
import { ShutdownService } from './shutdown.service';

/** Probes and the shutdown sequence. The Redis client they check comes from the global RedisModule. */
@Global()
@Module({
  imports: [TerminusModule.forRoot({ logger: false }), SunoModule, GenerationModule],
  controllers: [HealthController],
  providers: [ShutdownState, ShutdownService, HealthIndicators, WaitRelease],
  exports: [ShutdownState, ShutdownService, WaitRelease],
})
export class HealthModule {}
