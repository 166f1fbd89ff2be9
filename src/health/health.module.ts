import { Global, Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { SunoModule } from '../suno/suno.module';
import { HealthController } from './health.controller';
import { REDIS_CLIENT, redisProvider } from './redis.provider';
import { ShutdownState } from './shutdown-state';

@Global()
@Module({
  imports: [TerminusModule.forRoot({ logger: false }), SunoModule],
  controllers: [HealthController],
  providers: [ShutdownState, redisProvider],
  exports: [ShutdownState, REDIS_CLIENT],
})
export class HealthModule {}
