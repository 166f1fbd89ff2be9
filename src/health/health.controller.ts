import { Controller, Get, Res, ServiceUnavailableException } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import {
  HealthCheck,
  HealthCheckResult,
  HealthCheckService,
  HealthIndicatorFunction,
  HealthIndicatorResult,
  HealthIndicatorService,
} from '@nestjs/terminus';
import type { FastifyReply } from 'fastify';
import { Public } from '../common/public.decorator';
import { HealthIndicators } from './health.indicators';

/** Each check gets this long; kept below the probes' timeoutSeconds (2 s and more) in deploy/k8s. */
export const CHECK_TIMEOUT_MS = 1_000;

/**
 * Kubernetes probes. They need no API key and are not logged (see http-observability). A
 * failing probe returns 503 with the same terminus body as a passing one, so the caller sees
 * every check's status instead of a generic error.
 */
@ApiTags('health')
@Public()
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicator: HealthIndicatorService,
    private readonly indicators: HealthIndicators,
  ) {}

  @Get('live')
  @HealthCheck()
  @ApiOperation({
    summary:
      'Liveness: the event loop responds and the heap is under its limit; never checks the upstream or Redis.',
  })
  live(@Res({ passthrough: true }) reply: FastifyReply): Promise<HealthCheckResult> {
    return this.run(reply, [this.timed('process', () => this.indicators.process())]);
  }

  @Get('ready')
  @HealthCheck()
  @ApiOperation({
    summary:
      'Readiness: not shutting down, configuration loaded, an account with a session token, Redis reachable when configured.',
  })
  ready(@Res({ passthrough: true }) reply: FastifyReply): Promise<HealthCheckResult> {
    return this.run(reply, [
      this.timed('shutdown', () => this.indicators.notShuttingDown()),
      this.timed('config', () => this.indicators.configuration()),
      this.timed('accounts', () => this.indicators.usableAccount()),
      this.timed('redis', () => this.indicators.redisReachable()),
    ]);
  }

  @Get('startup')
  @HealthCheck()
  @ApiOperation({
    summary: 'Startup: every account got its first session token or reported why not.',
  })
  startup(@Res({ passthrough: true }) reply: FastifyReply): Promise<HealthCheckResult> {
    return this.run(reply, [this.timed('session', () => this.indicators.firstLogin())]);
  }

  /** Terminus throws its result on failure; it becomes the 503 body here, not an error. */
  private async run(
    reply: FastifyReply,
    checks: HealthIndicatorFunction[],
  ): Promise<HealthCheckResult> {
    try {
      return await this.health.check(checks);
    } catch (err) {
      if (!(err instanceof ServiceUnavailableException)) throw err;
      void reply.status(503);

      return err.getResponse() as HealthCheckResult;
    }
  }

  /** Wraps a check so that a hung dependency reports `down` after CHECK_TIMEOUT_MS. */
  private timed(
    key: string,
    check: () => HealthIndicatorResult | Promise<HealthIndicatorResult>,
  ): HealthIndicatorFunction {
    return () => {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<HealthIndicatorResult>((resolve) => {
        timer = setTimeout(
          () =>
            resolve(
              this.indicator.check(key).down({ reason: `timed out after ${CHECK_TIMEOUT_MS} ms` }),
            ),
          CHECK_TIMEOUT_MS,
        );
      });

      return Promise.race([Promise.resolve().then(check), timeout]).finally(() =>
        clearTimeout(timer),
      );
    };
  }
}
