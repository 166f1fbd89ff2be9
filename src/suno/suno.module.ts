import { HttpModule } from '@nestjs/axios';
import { ResilienceModule } from '../resilience/resilience.module';
import { Module } from '@nestjs/common';
import { AccountsService } from '../session/accounts.service';
import { ClerkApi } from '../session/clerk.api';
import { SessionService } from '../session/session.service';
import { MemorySessionStore, RedisSessionStore, SessionStore } from '../session/session-store';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { REDIS_CLIENT } from '../health/redis.provider';
import type Redis from 'ioredis';
import { StudioApi } from './studio.api';
import { SunoClient } from './suno-client.service';
import { UpstreamTransport } from './upstream-transport';

/**
 * Everything that talks to the upstream: the transport, Clerk sessions and the studio API.
 * The session classes live here because the studio client needs tokens and the session
 * needs the transport; one module keeps that graph acyclic.
 */
@Module({
  imports: [HttpModule, ResilienceModule],
  providers: [
    UpstreamTransport,
    ClerkApi,
    AccountsService,
    SessionService,
    SunoClient,
    StudioApi,
    {
      provide: SessionStore,
      inject: [APP_CONFIG, REDIS_CLIENT],
      useFactory: (config: AppConfig, redis: Redis | null) =>
        redis && config.session.encryptionKey
          ? new RedisSessionStore(redis, config.session.encryptionKey)
          : new MemorySessionStore(),
    },
  ],
  exports: [AccountsService, SessionService, StudioApi],
})
export class SunoModule {}
