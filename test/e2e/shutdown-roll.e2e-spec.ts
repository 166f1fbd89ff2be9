/**
 * A rolling restart of two gateway processes behind a proxy that routes by readiness, the
 * way a Kubernetes Service does: under constant load no request fails.
 */
import { Agent } from 'node:http';
import { DEFAULT_ACCOUNT, startEmulator, type RunningEmulator } from '../emulator';
import { LoadLoops, pause, send, settleWithin, waitForReady, type Outcome } from './support/load';
import {
  ProcessStack,
  gatewayCommand,
  gatewayEnv,
  type GatewayProcess,
  type ProcessExit,
} from './support/process-stack';
import { ReadyProxy } from './support/ready-proxy';

const API_KEY = 'shutdown-roll-key-0123456789';
/** The Redis that CI starts on loopback (.ci/run). */
const REDIS_URL = 'redis://127.0.0.1:6379';
const AUTH = { authorization: `Bearer ${API_KEY}` };
/** Longer than the proxy needs to see readiness fail (one 100 ms poll plus the probe), with CI margin. */
const DRAIN_MS = 1_000;
const WAIT_CAP_MS = 3_000;
/** Allowance over drain + wait cap for signal delivery, closing Nest and flushing, on a slow CI machine. */
const EXIT_MARGIN_MS = 3_000;
const CREDIT_LOOPS = 20;
const WAIT_LOOPS = 3;
const SONG = { prompt: '[Verse]\nRolling over', title: 'Rolling Over', tags: 'synthpop' };
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

interface Replacement {
  old: GatewayProcess;
  exit: ProcessExit | undefined;
  signalledMs: number;
  /** When the proxy first saw the old replica not ready after the signal. */
  notReadyMs: number | undefined;
}

function describeOutcome(o: Outcome): string {
  return `${o.method} ${o.path} ${o.error ?? o.status} ${o.headers?.['x-ready-proxy'] ?? ''}`.trim();
}

describe('rolling restart behind a readiness proxy', () => {
  const processes = new ProcessStack();
  const agent = new Agent({ keepAlive: true });
  let emulator: RunningEmulator;
  let proxy: ReadyProxy | undefined;

  beforeAll(async () => {
    // Songs take 8 s, twice drain plus wait cap: waits sent well before a shutdown finish
    // during it, and later ones are ended by the wait cap.
    emulator = await startEmulator({
      port: 0,
      quiet: true,
      generationS: 8,
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
    await proxy?.close();
    agent.destroy();
    await processes.stopAll();
    await emulator?.close();
  });

  it('restarts both replicas under load without a failed request', async () => {
    // Replicas share Redis as in production; readiness then pings it and shutdown closes it.
    const env = {
      ...gatewayEnv(emulator.url, API_KEY),
      REDIS_URL: REDIS_URL,
      SHUTDOWN_DRAIN_MS: String(DRAIN_MS),
      SHUTDOWN_WAIT_CAP_MS: String(WAIT_CAP_MS),
    };
    const startReplica = async (): Promise<GatewayProcess> => {
      const replica = await processes.startGateway({ env });
      await waitForReady(replica.url, 60_000);

      return replica;
    };
    const activeProxy = await ReadyProxy.start(100);
    proxy = activeProxy;
    const replicas = await Promise.all([startReplica(), startReplica()]);
    for (const replica of replicas) activeProxy.add(replica.url);
    for (const replica of replicas) await activeProxy.waitUntilReady(replica.url, 10_000);

    const credits = new LoadLoops();
    credits.start(CREDIT_LOOPS, () =>
      send({
        baseUrl: activeProxy.url,
        method: 'GET',
        path: '/v1/credits',
        headers: AUTH,
        agent,
        timeoutMs: 15_000,
      }),
    );
    const waits = new LoadLoops();
    waits.start(WAIT_LOOPS, () =>
      send({
        baseUrl: activeProxy.url,
        method: 'POST',
        path: '/v1/generations?wait=true&timeout_s=20',
        headers: AUTH,
        body: SONG,
        agent,
        timeoutMs: 30_000,
      }),
    );
    await pause(1_000);

    const rollStartedMs = Date.now();
    const replacements: Replacement[] = [];
    const directWaits: Outcome[] = [];
    for (let i = 0; i < replicas.length; i++) {
      const old = replicas[i];
      // A client connected to this replica itself waits for a song that outlasts drain and
      // wait cap, so every shutdown has a wait to end (the proxy's waits may all be elsewhere).
      const generationsBefore = emulator.state.stats.generations;
      const directWait = send({
        baseUrl: old.url,
        method: 'POST',
        path: '/v1/generations?wait=true&timeout_s=20',
        headers: AUTH,
        body: SONG,
        agent,
        timeoutMs: 30_000,
      });
      while (emulator.state.stats.generations === generationsBefore) await pause(20);
      const signalledMs = Date.now();
      old.signal('SIGTERM');
      const exit = await settleWithin(old.exited, DRAIN_MS + WAIT_CAP_MS + 20_000);
      directWaits.push(await directWait);
      const notReadyMs = activeProxy.changes.find(
        (c) => c.backend === old.url && !c.ready && c.atMs >= signalledMs,
      )?.atMs;
      replacements.push({ old, exit, signalledMs, notReadyMs });
      await activeProxy.remove(old.url);

      replicas[i] = await startReplica();
      activeProxy.add(replicas[i].url);
      await activeProxy.waitUntilReady(replicas[i].url, 10_000);
    }
    await pause(1_000);
    const rollEndedMs = Date.now();
    await credits.stop();
    await waits.stop();

    for (const { old, exit, signalledMs, notReadyMs } of replacements) {
      expect(exit?.code).toBe(0);
      expect(exit?.signal).toBeNull();
      expect((exit?.atMs ?? Infinity) - signalledMs).toBeLessThan(
        DRAIN_MS + WAIT_CAP_MS + EXIT_MARGIN_MS,
      );
      expect((notReadyMs ?? Infinity) - signalledMs).toBeLessThan(1_000);
      expect(old.logs().some((l) => l.msg === 'shutdown: exit')).toBe(true);
      expect(
        old
          .logs()
          .filter((l) => l.level === 'error')
          .map((l) => l.msg),
      ).toEqual([]);
    }

    // The proxy's readiness changes explain a "no ready replica" response.
    expect({
      changes: activeProxy.changes,
      failed: credits.outcomes
        .filter((o) => o.error !== undefined || o.status !== 200)
        .map(describeOutcome),
    }).toEqual({
      changes: activeProxy.changes,
      failed: [],
    });
    expect(
      waits.outcomes
        .filter((o) => o.error !== undefined || (o.status !== 200 && o.status !== 202))
        .map(describeOutcome),
    ).toEqual([]);
    expect(directWaits.map((o) => o.error ?? o.status)).toEqual([202, 202]);
    for (const outcome of [...waits.outcomes, ...directWaits]) {
      expect((JSON.parse(outcome.body ?? '{}') as { id?: string }).id).toMatch(UUID);
    }
    expect(activeProxy.stats.failed).toBe(0);
    expect(activeProxy.stats.noReadyReplica).toBe(0);
    // Each old replica served until the proxy dropped it, and each new one served after.
    for (const { old } of replacements)
      expect(activeProxy.stats.relayed[old.url]).toBeGreaterThan(0);
    for (const replica of replicas)
      expect(activeProxy.stats.relayed[replica.url]).toBeGreaterThan(0);

    const during = credits.outcomes.filter(
      (o) => o.startedMs >= rollStartedMs && o.endedMs <= rollEndedMs,
    );
    const waitStatuses = waits.outcomes.map((o) => o.status);
    process.stdout.write(
      `shutdown roll e2e (${gatewayCommand().kind}): roll took ${rollEndedMs - rollStartedMs} ms, served ${during.length} credit requests during it ` +
        `(${credits.outcomes.length} in all), waits ${waitStatuses.filter((s) => s === 200).length}x200 ${waitStatuses.filter((s) => s === 202).length}x202, ` +
        `retried after refusal ${activeProxy.stats.retriedAfterRefusal}, ` +
        `not ready after ${replacements.map((r) => (r.notReadyMs ?? NaN) - r.signalledMs).join('/')} ms, ` +
        `exit after ${replacements.map((r) => (r.exit?.atMs ?? NaN) - r.signalledMs).join('/')} ms\n`,
    );

    for (const replica of replicas) replica.signal('SIGTERM');
    const finalExits = await Promise.all(
      replicas.map((r) => settleWithin(r.exited, DRAIN_MS + WAIT_CAP_MS + 20_000)),
    );
    expect(finalExits.map((e) => e?.code)).toEqual([0, 0]);
  }, 240_000);
});
