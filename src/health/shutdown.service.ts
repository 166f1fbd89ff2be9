import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type Redis from 'ioredis';
import { setTimeout as sleep } from 'node:timers/promises';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { ClipWatcher } from '../generation/clip-watcher';
import { flushTraces } from '../observability/tracing';
import { REDIS_CLIENT } from './redis.provider';
import { ShutdownState } from './shutdown-state';
import { WaitRelease } from './wait-release';

/** After the wait cap, released waits get this long to write their 202 before sockets are destroyed. */
const RELEASE_GRACE_MS = 1_000;
/** How long `server.close()` may take to report once every socket was destroyed. */
const FORCE_CLOSE_GRACE_MS = 500;
/** Bound of closing Nest, whose module hooks also quit Redis. */
const RESOURCES_TIMEOUT_MS = 2_000;
/** Bound of flushing spans to the OTLP endpoint and log lines to stdout. */
const FLUSH_TIMEOUT_MS = 2_000;
/** Margin of the watchdog over the sum of every step's bound. */
const WATCHDOG_SLACK_MS = 500;

export interface AttachOptions {
  /** Writes buffered log lines; runs after the last log line of the sequence. */
  flushLogs?: () => Promise<void>;
}

export interface RunOptions {
  /** Called when the sequence overruns `budgetMs`; `main.ts` exits with status 1 there. */
  onDeadline?: () => void;
}

/**
 * The graceful shutdown sequence, in this order: readiness turns 503; the server keeps serving
 * for SHUTDOWN_DRAIN_MS so that endpoint removal can propagate; the server stops accepting
 * and closes idle keep-alive sockets; in-flight requests finish, and when SHUTDOWN_WAIT_CAP_MS
 * ends first the open waits return their current state; Nest modules and Redis close;
 * spans and logs are flushed. From the first step on, every response carries
 * `Connection: close`, so clients open their next connection to another replica.
 *
 * Nest's own `enableShutdownHooks` would run module destroy hooks before the server closes,
 * which stops the clip poller under requests that still wait on it; this sequence closes the
 * server first and calls `app.close()` only once no request is left.
 */
@Injectable()
export class ShutdownService {
  private readonly logger = new Logger('Shutdown');
  private app?: NestFastifyApplication;
  private flushLogs: () => Promise<void> = async () => undefined;
  private running?: Promise<number>;
  private inFlight = 0;
  private failedSteps = 0;

  constructor(
    private readonly state: ShutdownState,
    private readonly watcher: ClipWatcher,
    private readonly waits: WaitRelease,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Optional() @Inject(REDIS_CLIENT) private readonly redis?: Redis | null,
  ) {}

  /**
   * Registers the Fastify hooks that count in-flight requests and mark responses during
   * shutdown, and keeps the app for `run`. Must be called before the app listens.
   */
  attach(app: NestFastifyApplication, options: AttachOptions = {}): void {
    this.app = app;
    if (options.flushLogs) this.flushLogs = options.flushLogs;
    const fastify = app.getHttpAdapter().getInstance();

    fastify.addHook('onRequest', (_request, reply, done) => {
      this.inFlight += 1;
      // 'close' fires once the response is written or its connection dropped.
      reply.raw.once('close', () => (this.inFlight -= 1));
      done();
    });
    fastify.addHook('onSend', (_request, reply, payload, done) => {
      if (this.state.shuttingDown) void reply.header('connection', 'close');
      done(null, payload);
    });
  }

  /** Requests whose response is not finished yet. */
  get inFlightRequests(): number {
    return this.inFlight;
  }

  /** Maximum time `run` may take with the configured drain and wait cap. */
  get budgetMs(): number {
    const { shutdownDrainMs, shutdownWaitCapMs } = this.config.server;

    return (
      shutdownDrainMs +
      shutdownWaitCapMs +
      RELEASE_GRACE_MS +
      FORCE_CLOSE_GRACE_MS +
      RESOURCES_TIMEOUT_MS +
      2 * FLUSH_TIMEOUT_MS +
      WATCHDOG_SLACK_MS
    );
  }

  /**
   * Runs the sequence once and resolves with the exit code: 0, or 1 when a step threw (a step
   * that times out is logged and does not change the code). A second signal while it runs is
   * logged and joins the same sequence.
   */
  run(signal: string, options: RunOptions = {}): Promise<number> {
    if (this.running) {
      this.logger.log(
        { signal },
        `shutdown: ${signal} received again; the running shutdown continues`,
      );

      return this.running;
    }
    let watchdog: NodeJS.Timeout | undefined;
    if (options.onDeadline) {
      const onDeadline = options.onDeadline;
      watchdog = setTimeout(() => {
        this.logger.error(
          { budget_ms: this.budgetMs, in_flight: this.inFlight },
          `shutdown: not finished after ${this.budgetMs} ms; exiting now`,
        );
        onDeadline();
      }, this.budgetMs);
      watchdog.unref();
    }
    this.running = this.sequence(signal).finally(() => clearTimeout(watchdog));

    return this.running;
  }

  private async sequence(signal: string): Promise<number> {
    const startedMs = Date.now();
    const { shutdownDrainMs, shutdownWaitCapMs } = this.config.server;

    this.state.begin();
    this.logger.log(
      { signal, drain_ms: shutdownDrainMs, wait_cap_ms: shutdownWaitCapMs },
      `shutdown: readiness off (${signal})`,
    );

    this.logger.log({ in_flight: this.inFlight }, 'shutdown: draining');
    await sleep(shutdownDrainMs);

    this.logger.log({ in_flight: this.inFlight }, 'shutdown: closing server');
    const cut = await this.closeServer(shutdownWaitCapMs);
    this.logger.log({ cut_requests: cut }, 'shutdown: in-flight done');

    this.logger.log({ redis: Boolean(this.redis) }, 'shutdown: closing resources');
    // Module shutdown hooks stop the clip poller and session timers; RedisModule quits Redis.
    await this.attempt('closing Nest modules', () => this.app?.close(), RESOURCES_TIMEOUT_MS);
    // TODO: close BullMQ queues and workers here once jobs run on queues; none exist yet.
    if (this.redis && this.redis.status !== 'end') {
      this.logger.warn(
        { redis_status: this.redis.status },
        'shutdown: Redis is still open after closing Nest; disconnecting',
      );
      this.redis.disconnect();
    }

    this.logger.log('shutdown: flushing telemetry');
    await this.attempt('flushing spans', flushTraces, FLUSH_TIMEOUT_MS);

    const exitCode = this.failedSteps > 0 ? 1 : 0;
    this.logger.log({ exit_code: exitCode, duration_ms: Date.now() - startedMs }, 'shutdown: exit');
    await this.attempt('flushing logs', this.flushLogs, FLUSH_TIMEOUT_MS);

    return exitCode;
  }

  /**
   * Stops accepting, waits for in-flight requests up to `waitCapMs`, then ends open waits and
   * finally destroys the connections still open. Returns how many requests were cut that way.
   */
  private async closeServer(waitCapMs: number): Promise<number> {
    if (!this.app) return 0;
    const fastify = this.app.getHttpAdapter().getInstance();
    const closed = fastify.close().then(
      () => undefined,
      (err: unknown) => this.logger.warn({ err }, 'shutdown: closing the server reported an error'),
    );

    if (await settlesWithin(closed, waitCapMs)) return 0;
    const released = this.watcher.releaseWaiters() + this.waits.release();
    this.logger.warn(
      { in_flight: this.inFlight, released_waits: released },
      `shutdown: wait cap of ${waitCapMs} ms reached; ending ${released} waits with their current state`,
    );

    if (await settlesWithin(closed, RELEASE_GRACE_MS)) return 0;
    const cut = this.inFlight;
    this.logger.warn(
      { in_flight: cut },
      `shutdown: destroying the connections of ${cut} requests still in flight`,
    );
    fastify.server.closeAllConnections();
    await settlesWithin(closed, FORCE_CLOSE_GRACE_MS);

    return cut;
  }

  /**
   * Runs one step within `timeoutMs` and returns whether it finished in time. A timeout is
   * logged as a warning, an error as a failed step; either way the sequence goes on.
   */
  private async attempt(
    step: string,
    action: () => Promise<unknown> | undefined,
    timeoutMs: number,
  ): Promise<boolean> {
    try {
      if (await settlesWithin(Promise.resolve(action()), timeoutMs)) return true;
      this.logger.warn(
        { timeout_ms: timeoutMs },
        `shutdown: ${step} timed out after ${timeoutMs} ms; continuing`,
      );
    } catch (err) {
      this.failedSteps += 1;
      this.logger.error({ err }, `shutdown: ${step} failed; continuing`);
    }

    return false;
  }
}

/** Resolves true when `promise` settles within `ms`, false otherwise; rejects with its error. */
async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  const controller = new AbortController();
  const timeout = sleep(ms, false, { signal: controller.signal }).catch(() => false);
  try {
    return await Promise.race([promise.then(() => true), timeout]);
  } finally {
    controller.abort();
  }
}
