/**
 * Harness of the chaos specs: the emulator and the gateway in this process, both on
 * 127.0.0.1 with port 0, plus small clients for the gateway, the emulator's control API and
 * the Prometheus exposition.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { DestinationStream } from 'pino';
import { loadConfig } from '../../../src/config/load-config';
import { createApp } from '../../../src/create-app';
import { SessionService } from '../../../src/session/session.service';
import {
  DEFAULT_ACCOUNT,
  startEmulator,
  type EmulatorOptions,
  type RunningEmulator,
} from '../../emulator';

export const API_KEY = 'chaos-test-key-0001';

/** Account id the gateway gives the single account configured through SUNO_COOKIE. */
export const GATEWAY_ACCOUNT = 'default';

export interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  /** Parsed JSON body, or undefined when the body is not JSON. */
  json: any;
  /** Round trip measured by the client, in ms. */
  elapsedMs: number;
}

export interface RequestOptions {
  method?: string;
  body?: unknown;
  headers?: Record<string, string>;
  /** Sends no Authorization header. */
  anonymous?: boolean;
}

/**
 * Log lines of one gateway. pino writes synchronously, so the raw text is only stored here
 * and parsed when a test reads it, which keeps the capture out of the measured request time.
 */
export class LogCapture implements DestinationStream {
  private readonly raw: string[] = [];
  private parsed: Record<string, any>[] = [];

  write(chunk: string): void {
    this.raw.push(chunk);
  }

  /** Every line so far, parsed from pino's JSON. */
  get lines(): Record<string, any>[] {
    while (this.parsed.length < this.raw.length)
      this.parsed.push(parseLine(this.raw[this.parsed.length]));

    return this.parsed;
  }

  /** Lines whose `event` field equals `event`. */
  events(event: string): Record<string, any>[] {
    return this.lines.filter((line) => line.event === event);
  }
}

function parseLine(chunk: string): Record<string, any> {
  try {
    return JSON.parse(chunk) as Record<string, any>;
  } catch {
    return { msg: chunk };
  }
}

/** A keep-alive HTTP client for one base URL, destroyed by `close()`. */
export class HttpClient {
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

  constructor(readonly baseUrl: string) {}

  request(path: string, options: RequestOptions = {}): Promise<Answer> {
    const url = new URL(path, this.baseUrl);
    const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
    const headers: Record<string, string> = { accept: 'application/json', ...options.headers };
    if (payload !== undefined) headers['content-type'] = 'application/json';
    if (!options.anonymous) headers.authorization = `Bearer ${API_KEY}`;

    return new Promise((resolve, reject) => {
      const started = process.hrtime.bigint();
      const req = http.request(
        url,
        {
          method: options.method ?? (payload === undefined ? 'GET' : 'POST'),
          headers,
          agent: this.agent,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('error', reject);
          res.on('end', () => {
            const elapsedMs = Number(process.hrtime.bigint() - started) / 1e6;
            const text = Buffer.concat(chunks).toString('utf8');
            resolve({
              status: res.statusCode ?? 0,
              headers: res.headers,
              text,
              json: parseOrUndefined(text),
              elapsedMs,
            });
          });
        },
      );
      req.on('error', reject);
      req.end(payload);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

function parseOrUndefined(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** Faults accepted by `POST /__emulator/faults`. */
export interface FaultInput {
  match: string;
  action: 'status' | 'delay' | 'hang' | 'reset_before' | 'reset_after';
  rate?: number;
  count?: number;
  after?: number;
  status?: number;
  body?: unknown;
  content_type?: string;
  retry_after?: number | string;
  delay_ms?: number;
  duration_ms?: number;
  seed?: number;
}

export interface EmulatorStatsJson {
  requests: Record<string, number>;
  generations: number;
  clips: number;
  faults_hit: number;
}

/** The emulator's control API, called over HTTP as any client would. */
export class EmulatorControl {
  private readonly client: HttpClient;

  constructor(readonly emulator: RunningEmulator) {
    this.client = new HttpClient(emulator.url);
  }

  async addFault(fault: FaultInput): Promise<string> {
    const answer = await this.client.request('/__emulator/faults', {
      method: 'POST',
      body: fault,
      anonymous: true,
    });
    if (answer.status !== 200)
      throw new Error(
        `adding fault ${JSON.stringify(fault)} failed with ${answer.status}: ${answer.text}`,
      );

    return answer.json.id as string;
  }

  async clearFaults(): Promise<void> {
    await this.client.request('/__emulator/faults', { method: 'DELETE', anonymous: true });
  }

  async stats(): Promise<EmulatorStatsJson> {
    return (await this.client.request('/__emulator/stats', { anonymous: true }))
      .json as EmulatorStatsJson;
  }

  /** Sets the credits of an emulator account, e.g. so that many generations fit. */
  async setCredits(accountId: string, credits: number): Promise<void> {
    const answer = await this.client.request('/__emulator/accounts', {
      method: 'POST',
      body: { id: accountId, credits },
      anonymous: true,
    });
    if (answer.status !== 200)
      throw new Error(
        `setting credits of ${accountId} failed with ${answer.status}: ${answer.text}`,
      );
  }

  close(): void {
    this.client.close();
  }
}

export interface RequestTimes {
  /** Upstream requests in arrival order, with the emulator's `Date.now()` when it counted them. */
  requests: Array<{ route: string; atMs: number }>;
  stop(): void;
}

/**
 * Records when the emulator counts each upstream request, by watching its per-route counters
 * in this process. The control API has counts but no times.
 */
export function recordRequestTimes(emulator: RunningEmulator): RequestTimes {
  const stats = emulator.state.stats;
  const counters = stats.requests;
  const requests: RequestTimes['requests'] = [];
  stats.requests = new Proxy(counters, {
    set(target, route, value: number) {
      if (typeof route === 'string' && value > (target[route] ?? 0))
        requests.push({ route, atMs: Date.now() });
      target[route as string] = value;

      return true;
    },
  });

  return {
    requests,
    stop() {
      stats.requests = counters;
    },
  };
}

/** Per-route request counts gained between two stats snapshots. */
export function requestDelta(
  before: EmulatorStatsJson,
  after: EmulatorStatsJson,
  routes: string[],
): number {
  return routes.reduce(
    (sum, route) => sum + (after.requests[route] ?? 0) - (before.requests[route] ?? 0),
    0,
  );
}

export interface Rig {
  emulator: RunningEmulator;
  control: EmulatorControl;
  app: NestFastifyApplication;
  gateway: HttpClient;
  logs: LogCapture;
  close(): Promise<void>;
}

export interface RigOptions {
  /** Gateway environment on top of the harness defaults. */
  env?: Record<string, string>;
  emulator?: EmulatorOptions;
  /** Credits of the emulator account; default 100,000, so that credit checks never interfere. */
  credits?: number;
  /** Overrides SUNO_BASE_URL, e.g. a closed port; the auth URL stays on the emulator. */
  baseUrl?: string;
}

/**
 * Short timeouts and a fast poll so that every chaos spec runs in seconds. Each spec sets the
 * policy values it asserts on explicitly.
 */
const DEFAULT_ENV: Record<string, string> = {
  NODE_ENV: 'test',
  API_KEYS: `chaos:${API_KEY}`,
  LOG_LEVEL: 'info',
  LOG_PRETTY: 'false',
  UPSTREAM_CONNECT_TIMEOUT_MS: '500',
  UPSTREAM_AUTH_TIMEOUT_MS: '1000',
  UPSTREAM_READ_TIMEOUT_MS: '1000',
  UPSTREAM_SUBMIT_TIMEOUT_MS: '2000',
  RETRY_BACKOFF_BASE_MS: '10',
  RETRY_BACKOFF_MAX_MS: '200',
  POLL_INTERVAL_MS: '100',
  SESSION_BACKGROUND_REFRESH: 'false',
  SHUTDOWN_DRAIN_MS: '0',
  SHUTDOWN_WAIT_CAP_MS: '0',
};

/** Starts the emulator, then the gateway against it, and waits for the first session token. */
export async function startRig(options: RigOptions = {}): Promise<Rig> {
  const emulator = await startEmulator({
    port: 0,
    quiet: true,
    clipDurationS: 1,
    generationS: 2,
    jwtTtlS: 600,
    ...options.emulator,
  });
  const control = new EmulatorControl(emulator);
  const logs = new LogCapture();
  let app: NestFastifyApplication | undefined;
  try {
    await control.setCredits(DEFAULT_ACCOUNT.id, options.credits ?? 100_000);
    const config = loadConfig({
      ...DEFAULT_ENV,
      SUNO_COOKIE: DEFAULT_ACCOUNT.cookie,
      SUNO_BASE_URL: options.baseUrl ?? emulator.url,
      SUNO_AUTH_URL: emulator.url,
      ...options.env,
    });
    app = await createApp({ config, logDestination: logs });
    await app.listen({ port: 0, host: '127.0.0.1' });
    await app.get(SessionService).firstLogin;
  } catch (error) {
    control.close();
    await app?.close();
    await emulator.close();
    throw error;
  }

  const { port } = app.getHttpServer().address() as AddressInfo;
  const gateway = new HttpClient(`http://127.0.0.1:${port}`);
  const running = app;

  return {
    emulator,
    control,
    app: running,
    gateway,
    logs,
    async close() {
      gateway.close();
      control.close();
      await running.close();
      await emulator.close();
    },
  };
}

/** Scrapes the gateway's `/metrics` and sums the samples of `name` that carry `labels`; 0 when none do. */
export async function metricValue(
  gateway: HttpClient,
  name: string,
  labels: Record<string, string> = {},
): Promise<number> {
  const answer = await gateway.request('/metrics', {
    anonymous: true,
    headers: { accept: 'text/plain' },
  });
  if (answer.status !== 200) throw new Error(`GET /metrics answered ${answer.status}`);

  return sumSamples(answer.text, name, labels);
}

/** Sums the samples of `name` whose labels include every pair of `labels`. */
export function sumSamples(
  exposition: string,
  name: string,
  labels: Record<string, string>,
): number {
  let total = 0;
  for (const line of exposition.split('\n')) {
    if (line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][\w:]*)(\{(.*)\})?\s+(\S+)/.exec(line);
    if (!match || match[1] !== name) continue;
    const present = parseLabels(match[3] ?? '');
    if (Object.entries(labels).every(([key, value]) => present[key] === value))
      total += Number(match[4]);
  }

  return total;
}

function parseLabels(text: string): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const match of text.matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[match[1]] = match[2];

  return labels;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Runs `task` over `items` with at most `limit` in flight, keeping the results in order. */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  task: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      results[index] = await task(items[index], index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));

  return results;
}

/** Polls `probe` every `intervalMs` until it returns a value other than undefined, or throws after `timeoutMs`. */
export async function eventually<T>(
  probe: () => Promise<T | undefined>,
  timeoutMs: number,
  intervalMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await sleep(intervalMs);
  }
}

/** Returns the q-quantile (0–1) of `values` by the nearest-rank method. */
export function quantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil(q * sorted.length));

  return sorted[rank - 1];
}
