import {
  Controller,
  Get,
  Injectable,
  LoggerService,
  OnApplicationShutdown,
  Query,
  Res,
} from '@nestjs/common';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import type { FastifyReply } from 'fastify';
import { Agent, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { APP_CONFIG } from '../config/config.module';
import { loadConfig } from '../config/load-config';
import { WaitRelease } from './wait-release';
import { ClipWatcher } from '../generation/clip-watcher';
import { Generation } from '../generation/generation';
import { Reconciler } from '../generation/reconciler';
import { MetricsService } from '../observability/metrics.service';
import { AccountsService } from '../session/accounts.service';
import { StudioApi } from '../suno/studio.api';
import { REDIS_CLIENT } from './redis.provider';
import { ShutdownState } from './shutdown-state';
import { ShutdownService } from './shutdown.service';

const STEPS = [
  'shutdown: readiness off (SIGTERM)',
  'shutdown: draining',
  'shutdown: closing server',
  'shutdown: in-flight done',
  'shutdown: closing resources',
  'shutdown: flushing telemetry',
  'shutdown: exit',
];

interface LogEntry {
  level: string;
  message: string;
  fields: Record<string, unknown>;
}

/** Keeps what the Nest Logger writes; `Logger.log(fields, message)` arrives as (fields, message, context). */
class RecordingLogger implements LoggerService {
  readonly entries: LogEntry[] = [];

  log(first: unknown, ...rest: unknown[]): void {
    this.record('info', first, rest);
  }
  warn(first: unknown, ...rest: unknown[]): void {
    this.record('warn', first, rest);
  }
  error(first: unknown, ...rest: unknown[]): void {
    this.record('error', first, rest);
  }

  messages(): string[] {
    return this.entries.map((e) => e.message);
  }

  private record(level: string, first: unknown, rest: unknown[]): void {
    if (typeof first === 'string') {
      this.entries.push({ level, message: first, fields: {} });

      return;
    }
    this.entries.push({
      level,
      message: String(rest[0]),
      fields: first as Record<string, unknown>,
    });
  }
}

function pendingGeneration(): Generation {
  return {
    id: 'gen-1',
    kind: 'custom',
    accountId: 'default',
    clips: [],
    createdAt: new Date(),
    submittedAtMs: Date.now(),
    timedOut: false,
    reconciling: false,
  };
}

@Controller()
class TargetController {
  constructor(private readonly watcher: ClipWatcher) {}

  @Get('slow')
  async slow(@Query('ms') ms: string): Promise<{ ok: true }> {
    await sleep(Number(ms));

    return { ok: true };
  }

  /** Waits like `wait=true` does: 200 when done, 202 when the wait ended first. */
  @Get('wait')
  async wait(@Res({ passthrough: true }) reply: FastifyReply): Promise<{ done: boolean }> {
    const done = await this.watcher.waitUntil(pendingGeneration(), () => false, 60_000);
    void reply.status(done ? 200 : 202);

    return { done };
  }

  @Get('hang')
  hang(): Promise<never> {
    return new Promise(() => undefined);
  }
}

/** A module whose shutdown hook never finishes, as a stuck client library would. */
@Injectable()
class HungHook implements OnApplicationShutdown {
  onApplicationShutdown(): Promise<void> {
    return new Promise(() => undefined);
  }
}

interface Harness {
  app: NestFastifyApplication;
  sut: ShutdownService;
  state: ShutdownState;
  logger: RecordingLogger;
  get(path: string): Promise<{ status?: number; connection?: string; error?: string }>;
}

interface HarnessOptions {
  drainMs: number;
  waitCapMs: number;
  hungHook?: boolean;
  flushLogs?: () => Promise<void>;
}

async function startHarness(options: HarnessOptions): Promise<Harness> {
  const config = loadConfig({
    AUTH_DISABLED: 'true',
    SUNO_COOKIE: '__client=eyJhbGciOiJSUzI1NiJ9.eyJpZCI6ImNsaWVudF8xIn0.c2ln',
    SHUTDOWN_DRAIN_MS: String(options.drainMs),
    SHUTDOWN_WAIT_CAP_MS: String(options.waitCapMs),
  });
  const moduleRef = await Test.createTestingModule({
    controllers: [TargetController],
    providers: [
      ShutdownService,
      ShutdownState,
      ClipWatcher,
      WaitRelease,
      ...(options.hungHook ? [HungHook] : []),
      { provide: APP_CONFIG, useValue: config },
      { provide: REDIS_CLIENT, useValue: null },
      // The clip watcher's collaborators are used only by polling, which these specs never start.
      { provide: StudioApi, useValue: {} },
      { provide: AccountsService, useValue: {} },
      { provide: Reconciler, useValue: {} },
      { provide: MetricsService, useValue: {} },
    ],
  }).compile();
  const logger = new RecordingLogger();
  const app = moduleRef.createNestApplication<NestFastifyApplication>(
    new FastifyAdapter({ return503OnClosing: false, forceCloseConnections: 'idle' }),
    { logger },
  );
  const sut = app.get(ShutdownService);
  sut.attach(app, { flushLogs: options.flushLogs });
  await app.listen(0, '127.0.0.1');
  // Only the shutdown's lines matter here, not Nest's start-up lines.
  logger.entries.length = 0;
  const { port } = app.getHttpServer().address() as AddressInfo;
  const agent = new Agent({ keepAlive: true });

  return {
    app,
    sut,
    state: app.get(ShutdownState),
    logger,
    get: (path) =>
      new Promise((resolve) => {
        const req = request({ host: '127.0.0.1', port, path, agent }, (res) => {
          res.resume();
          res.on('end', () =>
            resolve({ status: res.statusCode, connection: res.headers.connection }),
          );
        });
        req.on('error', (err: NodeJS.ErrnoException) =>
          resolve({ error: err.code ?? err.message }),
        );
        req.end();
      }),
  };
}

describe('ShutdownService', () => {
  let harness: Harness | undefined;

  afterEach(async () => {
    if (harness?.app.getHttpServer().listening) await harness.app.close();
    harness = undefined;
  });

  it('runs the steps in order and exits 0', async () => {
    let linesAtFlush = -1;
    harness = await startHarness({
      drainMs: 50,
      waitCapMs: 500,
      flushLogs: async () => void (linesAtFlush = harness?.logger.entries.length ?? -1),
    });

    const code = await harness.sut.run('SIGTERM');

    expect(code).toBe(0);
    expect(harness.logger.messages()).toEqual(STEPS);
    expect(harness.logger.entries.every((e) => e.level === 'info')).toBe(true);
    expect(linesAtFlush).toBe(STEPS.length);
    expect(harness.app.getHttpServer().listening).toBe(false);
  });

  it('turns readiness off before the drain', async () => {
    harness = await startHarness({ drainMs: 300, waitCapMs: 500 });

    const running = harness.sut.run('SIGTERM');

    expect(harness.state.shuttingDown).toBe(true);
    await running;
  });

  it('serves during the drain with Connection: close', async () => {
    harness = await startHarness({ drainMs: 300, waitCapMs: 500 });
    const before = await harness.get('/slow?ms=0');

    const running = harness.sut.run('SIGTERM');
    const during = await harness.get('/slow?ms=0');
    await running;

    expect(before).toEqual({ status: 200, connection: 'keep-alive' });
    expect(during).toEqual({ status: 200, connection: 'close' });
  });

  it('lets in-flight requests finish', async () => {
    harness = await startHarness({ drainMs: 20, waitCapMs: 2_000 });
    const inFlight = harness.get('/slow?ms=300');
    await sleep(50);

    const code = await harness.sut.run('SIGTERM');

    expect(await inFlight).toEqual({ status: 200, connection: 'close' });
    expect(code).toBe(0);
    expect(
      harness.logger.entries.find((e) => e.message === 'shutdown: in-flight done')?.fields,
    ).toEqual({ cut_requests: 0 });
    expect(harness.logger.entries.filter((e) => e.level !== 'info')).toEqual([]);
  });

  it('ends waits with their state at the wait cap', async () => {
    harness = await startHarness({ drainMs: 20, waitCapMs: 200 });
    const waiting = harness.get('/wait');
    await sleep(50);

    await harness.sut.run('SIGTERM');

    expect(await waiting).toEqual({ status: 202, connection: 'close' });
    const capped = harness.logger.entries.find((e) => e.level === 'warn');
    expect(capped?.message).toBe(
      'shutdown: wait cap of 200 ms reached; ending 1 waits with their current state',
    );
    expect(capped?.fields.released_waits).toBe(1);
  });

  it('destroys connections still busy after the wait cap', async () => {
    harness = await startHarness({ drainMs: 20, waitCapMs: 100 });
    const hanging = harness.get('/hang');
    await sleep(50);

    const code = await harness.sut.run('SIGTERM');

    expect((await hanging).error).toMatch(/ECONNRESET|socket hang up/);
    expect(code).toBe(0);
    expect(
      harness.logger.entries.find((e) => e.message === 'shutdown: in-flight done')?.fields,
    ).toEqual({ cut_requests: 1 });
  });

  it('joins a second signal to the running sequence', async () => {
    harness = await startHarness({ drainMs: 100, waitCapMs: 500 });

    const first = harness.sut.run('SIGTERM');
    const second = harness.sut.run('SIGINT');

    expect(second).toBe(first);
    expect(await second).toBe(0);
    expect(
      harness.logger.messages().filter((m) => m.startsWith('shutdown: readiness off')),
    ).toHaveLength(1);
    expect(harness.logger.messages()).toContain(
      'shutdown: SIGINT received again; the running shutdown continues',
    );
  });

  it('goes on past a hung shutdown hook', async () => {
    harness = await startHarness({ drainMs: 0, waitCapMs: 100, hungHook: true });

    const code = await harness.sut.run('SIGTERM');

    expect(code).toBe(0);
    expect(harness.logger.messages()).toContain(
      'shutdown: closing Nest modules timed out after 2000 ms; continuing',
    );
    expect(harness.logger.messages().at(-1)).toBe('shutdown: exit');
  });
});

describe('ClipWatcher.releaseWaiters', () => {
  let harness: Harness | undefined;

  afterEach(async () => {
    if (harness?.app.getHttpServer().listening) await harness.app.close();
    harness = undefined;
  });

  it('ends open waits and every later one at once', async () => {
    harness = await startHarness({ drainMs: 0, waitCapMs: 0 });
    const watcher = harness.app.get(ClipWatcher);
    let ready = false;
    const open = watcher.waitUntil(pendingGeneration(), () => ready, 60_000);

    ready = true;
    const released = watcher.releaseWaiters();
    const later = watcher.waitUntil(pendingGeneration(), () => false, 60_000);

    expect(released).toBe(1);
    // An open wait reports whether its condition holds at the moment of release.
    expect(await open).toBe(true);
    expect(await later).toBe(false);
  });
});
