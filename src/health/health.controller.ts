import { Controller, Get, Inject, Optional } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService, HealthIndicatorResult, HealthIndicatorService } from '@nestjs/terminus';
import type Redis from 'ioredis';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Public } from '../common/public.decorator';
import { SessionService } from '../session/session.service';
import { AccountsService } from '../session/accounts.service';
import { REDIS_CLIENT } from './redis.provider';
import { ShutdownState } from './shutdown-state';

/** Liveness fails only when the process itself is stuck or bloated, never for the upstream. */
const MAX_EVENT_LOOP_DELAY_MS = 2_000;
const MAX_HEAP_BYTES = 1_536 * 1024 * 1024;
const CHECK_TIMEOUT_MS = 1_000;

@ApiTags('health')
@Public()
@Controller('health')
export class HealthController {
  private readonly loopDelay = monitorEventLoopDelay({ resolution: 20 });

  constructor(
    private readonly health: HealthCheckService,
    private readonly indicator: HealthIndicatorService,
    private readonly accounts: AccountsService,
    private readonly session: SessionService,
    private readonly shutdown: ShutdownState,
    @Optional() @Inject(REDIS_CLIENT) private readonly redis?: Redis,
  ) {
    this.loopDelay.enable();
  }

  @Get('live')
  @HealthCheck()
  @ApiOperation({ summary: 'Liveness: the event loop responds and the heap is under its limit.' })
  live() {
    return this.health.check([() => this.process()]);
  }

  @Get('ready')
  @HealthCheck()
  @ApiOperation({ summary: 'Readiness: not shutting down, at least one usable account, Redis reachable when configured.' })
  ready() {
    return this.health.check([() => this.notShuttingDown(), () => this.usableAccount(), () => this.redisReachable()]);
  }

  @Get('startup')
  @HealthCheck()
  @ApiOperation({ summary: 'Startup: every account got its first session token or reported why not.' })
  startup() {
    return this.health.check([() => this.firstLogin()]);
  }

  private process(): HealthIndicatorResult {
    const check = this.indicator.check('process');
    const delayMs = this.loopDelay.max / 1e6;
    this.loopDelay.reset();
    const heap = process.memoryUsage().heapUsed;
    const data = { event_loop_delay_max_ms: Math.round(delayMs), heap_used_bytes: heap };

    return delayMs < MAX_EVENT_LOOP_DELAY_MS && heap < MAX_HEAP_BYTES ? check.up(data) : check.down(data);
  }

  private notShuttingDown(): HealthIndicatorResult {
    const check = this.indicator.check('shutdown');

    return this.shutdown.shuttingDown ? check.down({ since: this.shutdown.since?.toISOString() }) : check.up();
  }

  private usableAccount(): HealthIndicatorResult {
    const check = this.indicator.check('accounts');
    const accounts = this.accounts.views().map((a) => ({ id: a.id, state: a.state, reason: a.state_reason, token_expires_at: a.token_expires_at, last_refresh_at: a.last_refresh_at }));
    const usable = this.accounts.all().some((a) => a.usable && a.token !== undefined);

    return usable ? check.up({ accounts }) : check.down({ reason: 'no account has a usable session token', accounts });
  }

  private async redisReachable(): Promise<HealthIndicatorResult> {
    const check = this.indicator.check('redis');
    if (!this.redis) return check.up({ configured: false });
    try {
      await withTimeout(this.redis.ping(), CHECK_TIMEOUT_MS);

      return check.up({ configured: true });
    } catch (err) {
      return check.down({ configured: true, reason: (err as Error).message });
    }
  }

  private async firstLogin(): Promise<HealthIndicatorResult> {
    const check = this.indicator.check('session');
    const settled = await Promise.race([this.session.firstLogin.then(() => true), delay(CHECK_TIMEOUT_MS).then(() => false)]);
    const accounts = this.accounts.views().map((a) => ({ id: a.id, state: a.state, reason: a.state_reason }));

    return settled ? check.up({ accounts }) : check.down({ reason: 'first login still running', accounts });
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return Promise.race([promise, delay(ms).then(() => Promise.reject(new Error(`timed out after ${ms} ms`)))]);
}
