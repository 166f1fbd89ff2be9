/**
 * SIGTERM to a real gateway process under load: readiness turns 503 at once, the drain keeps
 * serving, in-flight requests and waits get their responses, and the process exits 0 in time.
 */
import { Agent } from 'node:http';
import { DEFAULT_ACCOUNT, startEmulator, type RunningEmulator } from '../emulator';
import {
  LoadLoops,
  ReadinessWatch,
  pause,
  send,
  settleWithin,
  waitForReady,
  type Outcome,
} from './support/load';
import {
  ProcessStack,
  gatewayCommand,
  gatewayEnv,
  type GatewayProcess,
  type LogLine,
} from './support/process-stack';

const API_KEY = 'shutdown-e2e-key-0123456789';
const AUTH = { authorization: `Bearer ${API_KEY}` };
const DRAIN_MS = 500;
const WAIT_CAP_MS = 3_000;
/** Allowance over drain + wait cap for signal delivery, closing Nest and flushing, on a slow CI machine. */
const EXIT_MARGIN_MS = 3_000;
const CREDIT_LOOPS = 30;
/** Resets of queued connections arrive a few ms after the listener closes; 1 s allows for a busy CI machine. */
const RESET_WINDOW_MS = 1_000;
const WAITS = 4;
const SONG = { prompt: '[Verse]\nLast train home', title: 'Last Train', tags: 'indie pop' };
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const STEPS = [
  'shutdown: readiness off',
  'shutdown: draining',
  'shutdown: closing server',
  'shutdown: in-flight done',
  'shutdown: closing resources',
  'shutdown: flushing telemetry',
  'shutdown: exit',
];

/**
 * A request counts as accepted when the gateway process took its connection and could read
 * it. Two client-side failures show that it never did, so they do not count:
 * - ECONNREFUSED before the socket connected: the listener was already closed.
 * - a reset on a connection opened for this very request, with no response byte, no earlier
 *   request on that socket, within RESET_WINDOW_MS after the gateway logged `closing server`,
 *   and with a request id the gateway never logged. The kernel completes the TCP handshake for
 *   connections queued on the listener; when the listener closes before Node accepts them,
 *   the kernel resets them. No server can respond to those. In production the drain keeps load
 *   balancers from opening them, which the two-replica spec shows.
 * Every other error (a reset on a reused keep-alive socket, a reset before `closing server`,
 * a timeout) or any status but the expected one is a failed accepted request.
 */
function classify(
  outcome: Outcome,
  closingServerMs: number,
  loggedIds: ReadonlySet<string>,
): 'served' | 'refused' | 'never accepted' | 'failed' {
  if (outcome.error === undefined) return 'served';
  if (outcome.error === 'ECONNREFUSED' && !outcome.connected) return 'refused';
  const resetOnFreshConnection =
    !outcome.reusedSocket &&
    !outcome.responseStarted &&
    (outcome.error === 'ECONNRESET' || outcome.error === 'socket hang up');
  const atClose =
    outcome.endedMs >= closingServerMs && outcome.endedMs <= closingServerMs + RESET_WINDOW_MS;
  if (resetOnFreshConnection && atClose && !loggedIds.has(outcome.requestId))
    return 'never accepted';

  return 'failed';
}

function logTime(logs: LogLine[], prefix: string): number {
  const line = logs.find((l) => typeof l.msg === 'string' && l.msg.startsWith(prefix));
  if (!line?.time) throw new Error(`the gateway never logged "${prefix}"`);

  return Date.parse(line.time);
}

function describeOutcome(o: Outcome): string {
  return `${o.method} ${o.path} ${o.error ?? o.status} reused=${o.reusedSocket} connected=${o.connected} at +${o.endedMs - o.startedMs} ms`;
}

describe('gateway process shutdown', () => {
  const processes = new ProcessStack();
  const agent = new Agent({ keepAlive: true });
  let emulator: RunningEmulator;

  beforeAll(async () => {
    // Songs take a minute, so every wait is still open when the wait cap ends.
    emulator = await startEmulator({
      port: 0,
      quiet: true,
      generationS: 60,
      runningJobCap: 50,
      accounts: [
        {
          id: DEFAULT_ACCOUNT.id,
          cookie: DEFAULT_ACCOUNT.cookie,
          sessionId: DEFAULT_ACCOUNT.sessionId,
          credits: 100_000,
        },
      ],
    });
  });

  afterAll(async () => {
    agent.destroy();
    await processes.stopAll();
    await emulator?.close();
  });

  it('drains under load and exits 0', async () => {
    const env = {
      ...gatewayEnv(emulator.url, API_KEY),
      SHUTDOWN_DRAIN_MS: String(DRAIN_MS),
      SHUTDOWN_WAIT_CAP_MS: String(WAIT_CAP_MS),
    };
    const gateway: GatewayProcess = await processes.startGateway({ env });
    await waitForReady(gateway.url, 60_000);

    const credits = new LoadLoops();
    credits.start(CREDIT_LOOPS, () =>
      send({
        baseUrl: gateway.url,
        method: 'GET',
        path: '/v1/credits',
        headers: AUTH,
        agent,
        timeoutMs: 15_000,
      }),
    );
    const waits = Array.from({ length: WAITS }, () =>
      send({
        baseUrl: gateway.url,
        method: 'POST',
        path: '/v1/generations?wait=true&timeout_s=30',
        headers: AUTH,
        body: SONG,
        agent,
        timeoutMs: 30_000,
      }),
    );
    while (emulator.state.stats.generations < WAITS) await pause(50);
    await pause(500);

    const readiness = new ReadinessWatch(gateway.url, 50);
    await pause(200);
    const signalledMs = Date.now();
    gateway.signal('SIGTERM');
    await pause(200);
    gateway.signal('SIGTERM');
    const exit = await settleWithin(gateway.exited, DRAIN_MS + WAIT_CAP_MS + 20_000);
    await credits.stop();
    await readiness.stop();
    const waited = await Promise.all(waits);

    const logs = gateway.logs();
    expect(exit).toBeDefined();
    expect(exit?.code).toBe(0);
    expect(exit?.signal).toBeNull();
    expect((exit?.atMs ?? Infinity) - signalledMs).toBeLessThan(
      DRAIN_MS + WAIT_CAP_MS + EXIT_MARGIN_MS,
    );

    const notReady = readiness.firstNotReadySince(signalledMs);
    expect(notReady?.status).toBe(503);
    expect((notReady?.atMs ?? Infinity) - signalledMs).toBeLessThan(1_000);

    const closingServerMs = logTime(logs, 'shutdown: closing server');
    const loggedIds = new Set(
      logs.map((l) => l.request_id).filter((id): id is string => typeof id === 'string'),
    );
    const byKind = new Map<string, Outcome[]>();
    for (const outcome of credits.outcomes) {
      const kind = classify(outcome, closingServerMs, loggedIds);
      byKind.set(kind, [...(byKind.get(kind) ?? []), outcome]);
    }
    const served = byKind.get('served') ?? [];
    expect((byKind.get('failed') ?? []).map(describeOutcome)).toEqual([]);
    expect(served.filter((o) => o.status !== 200).map(describeOutcome)).toEqual([]);
    // The drain serves: requests sent after the signal still got their credits.
    expect(served.filter((o) => o.startedMs > signalledMs).length).toBeGreaterThan(0);

    // From readiness off on, every response asks the client to close its connection.
    const readinessOffMs = logTime(logs, 'shutdown: readiness off');
    const afterOff = served.filter((o) => o.startedMs > readinessOffMs);
    expect(afterOff.filter((o) => o.headers?.connection !== 'close').map(describeOutcome)).toEqual(
      [],
    );

    for (const outcome of waited) {
      expect(outcome.error).toBeUndefined();
      expect([200, 202]).toContain(outcome.status);
      const body = JSON.parse(outcome.body ?? '{}') as {
        id?: string;
        clips?: Array<{ status: string }>;
      };
      expect(body.id).toMatch(UUID);
      expect(body.clips).toHaveLength(2);
    }

    const positions = STEPS.map((step) =>
      logs.findIndex((l) => typeof l.msg === 'string' && l.msg.startsWith(step)),
    );
    expect(positions.every((p) => p >= 0)).toBe(true);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
    expect(
      logs.some((l) => typeof l.msg === 'string' && l.msg.includes('SIGTERM received again')),
    ).toBe(true);
    expect(logs.filter((l) => l.level === 'error').map((l) => l.msg)).toEqual([]);
    // Readiness was polled every 50 ms, 503 included, yet no probe reached the log.
    expect(
      logs.filter((l) => typeof l.route === 'string' && l.route.startsWith('/health')),
    ).toEqual([]);

    process.stdout.write(
      `shutdown e2e (${gatewayCommand().kind}): readiness 503 after ${notReady ? notReady.atMs - signalledMs : '-'} ms, ` +
        `exit after ${exit ? exit.atMs - signalledMs : '-'} ms, served ${served.length} ` +
        `(${served.filter((o) => o.startedMs > signalledMs).length} after SIGTERM), refused ${(byKind.get('refused') ?? []).length}, ` +
        `never accepted ${(byKind.get('never accepted') ?? []).length}, waits ${waited.map((o) => o.status).join(',')}\n`,
    );
  }, 120_000);
});
