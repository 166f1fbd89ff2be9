/**
 * Starts the Suno emulator and the gateway in this process, both on 127.0.0.1 with port 0.
 * Specs drive both through one object: HTTP calls with the API key, the emulator's control
 * API, and every log line the gateway wrote.
 */
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { loadConfig } from '../../../src/config/load-config';
import { createApp } from '../../../src/create-app';
import {
  DEFAULT_ACCOUNT,
  startEmulator,
  type EmulatorOptions,
  type RunningEmulator,
} from '../../emulator';

/** API key the harness configures unless a spec passes its own. */
export const TEST_API_KEY = 'e2e-test-key-0123456789';

export interface StackOptions {
  /** Emulator start options; port, host and quiet are fixed by the harness. */
  emulator?: Omit<EmulatorOptions, 'port' | 'host' | 'quiet'>;
  /**
   * Runs after the emulator listens and before the gateway starts, for accounts or config
   * the gateway must meet at its first login.
   */
  beforeGateway?: (emulator: RunningEmulator) => Promise<void>;
  /** Gateway environment variables, applied over the harness defaults. */
  env?: Record<string, string>;
  /** Key sent by `request`; it must be one of API_KEYS. Default TEST_API_KEY. */
  apiKey?: string;
  /**
   * Whether `startStack` returns only once the boot login ended (every account left the
   * `starting` state). Default true; turn it off to race the boot login.
   */
  waitForLogin?: boolean;
}

export interface RequestOptions {
  /** Sent as JSON unless `rawBody` is given. */
  body?: unknown;
  /** Sent as-is; set `content-type` in `headers` yourself. */
  rawBody?: string;
  headers?: Record<string, string>;
  /** False sends no Authorization header. Default true. */
  auth?: boolean;
}

export interface GatewayResponse<T = any> {
  status: number;
  headers: Headers;
  /** Parsed JSON when the body is JSON, else undefined. */
  body: T;
  text: string;
  contentType: string;
}

export interface FaultSpec {
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
}

export interface EmulatorStatsView {
  requests: Record<string, number>;
  generations: number;
  clips: number;
  tokens_minted: number;
  faults_hit: number;
  stale_client_uses: number;
  credits: Record<string, number>;
  running: Record<string, number>;
}

export interface Stack {
  gatewayUrl: string;
  emulator: RunningEmulator;
  app: NestFastifyApplication;
  apiKey: string;
  request<T = any>(
    method: string,
    path: string,
    options?: RequestOptions,
  ): Promise<GatewayResponse<T>>;
  /** Parsed gateway log lines, oldest first. */
  logs(): Record<string, unknown>[];
  /** Every byte the gateway logged, unparsed. */
  rawLogs(): string;
  fault(spec: FaultSpec): Promise<string>;
  clearFaults(): Promise<void>;
  stats(): Promise<EmulatorStatsView>;
  patchEmulatorConfig(patch: Record<string, unknown>): Promise<Record<string, unknown>>;
  /** `POST /__emulator/accounts`: creates an account or changes fields of one. */
  upsertEmulatorAccount(account: Record<string, unknown>): Promise<Record<string, unknown>>;
  /**
   * Clears faults and puts the emulator's config and the default account's credits and
   * sign-in flags back to their start values, keeping its cookies. `POST /__emulator/reset`
   * would forget rotated `__client` values that the gateway still sends.
   */
  resetUpstream(): Promise<void>;
  close(): Promise<void>;
}

/** Gateway settings of every stack; a spec's `env` overrides them. */
function defaultEnv(emulatorUrl: string, apiKey: string): Record<string, string> {
  return {
    NODE_ENV: 'test',
    HOST: '127.0.0.1',
    PORT: '0',
    API_KEYS: `e2e:${apiKey}`,
    SUNO_COOKIE: DEFAULT_ACCOUNT.cookie,
    SUNO_BASE_URL: emulatorUrl,
    SUNO_AUTH_URL: emulatorUrl,
    POLL_INTERVAL_MS: '100',
    WAIT_BUDGET_MS: '15000',
    WAIT_MAX_BUDGET_MS: '30000',
    UPSTREAM_CONNECT_TIMEOUT_MS: '1000',
    UPSTREAM_AUTH_TIMEOUT_MS: '3000',
    UPSTREAM_READ_TIMEOUT_MS: '3000',
    UPSTREAM_SUBMIT_TIMEOUT_MS: '5000',
    RETRY_BACKOFF_BASE_MS: '20',
    RETRY_BACKOFF_MAX_MS: '200',
    SESSION_RETRY_BASE_MS: '200',
    SESSION_RETRY_MAX_MS: '2000',
    LOG_LEVEL: 'debug',
    LOG_PRETTY: 'false',
    METRICS_ENABLED: 'true',
  };
}

/** Starts the emulator and the gateway; call `close()` in `afterAll`. */
export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const emulator = await startEmulator({
    generationS: 2,
    clipDurationS: 3,
    ...options.emulator,
    port: 0,
    quiet: true,
  });
  const apiKey = options.apiKey ?? TEST_API_KEY;
  let app: NestFastifyApplication | undefined;
  try {
    await options.beforeGateway?.(emulator);
    const startConfig = await control(emulator, 'GET', '/__emulator/config');
    const startAccounts = (await control(emulator, 'GET', '/__emulator/accounts'))
      .accounts as Record<string, unknown>[];
    const capture = new LogCapture();
    const config = loadConfig({ ...defaultEnv(emulator.url, apiKey), ...options.env });
    app = await createApp({ config, logDestination: capture.stream });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = app.getHttpServer().address() as AddressInfo;
    const stack = buildStack({
      emulator,
      app,
      apiKey,
      capture,
      gatewayUrl: `http://127.0.0.1:${port}`,
      startConfig,
      startAccounts,
    });
    if (options.waitForLogin ?? true) await waitForBootLogin(stack);

    return stack;
  } catch (err) {
    await app?.close().catch(() => undefined);
    await emulator.close();
    throw err;
  }
}

interface StackParts {
  emulator: RunningEmulator;
  app: NestFastifyApplication;
  apiKey: string;
  capture: LogCapture;
  gatewayUrl: string;
  startConfig: Record<string, unknown>;
  startAccounts: Record<string, unknown>[];
}

function buildStack(parts: StackParts): Stack {
  const { emulator, app, apiKey, capture, gatewayUrl } = parts;
  let closing: Promise<void> | undefined;

  return {
    gatewayUrl,
    emulator,
    app,
    apiKey,
    request: (method, path, options = {}) =>
      gatewayRequest(gatewayUrl, apiKey, method, path, options),
    logs: () => capture.lines(),
    rawLogs: () => capture.raw(),
    fault: async (spec) =>
      (await control(emulator, 'POST', '/__emulator/faults', spec)).id as string,
    clearFaults: async () => {
      await control(emulator, 'DELETE', '/__emulator/faults');
    },
    stats: async () =>
      (await control(emulator, 'GET', '/__emulator/stats')) as unknown as EmulatorStatsView,
    patchEmulatorConfig: (patch) => control(emulator, 'PATCH', '/__emulator/config', patch),
    upsertEmulatorAccount: (account) => control(emulator, 'POST', '/__emulator/accounts', account),
    resetUpstream: async () => {
      await control(emulator, 'DELETE', '/__emulator/faults');
      await control(emulator, 'PATCH', '/__emulator/config', parts.startConfig);
      for (const account of parts.startAccounts) {
        const { id, credits, plan, signed_out, revoked, degraded } = account;
        await control(emulator, 'POST', '/__emulator/accounts', {
          id,
          credits,
          plan,
          signed_out,
          revoked,
          degraded,
        });
      }
    },
    close: () =>
      (closing ??= (async () => {
        try {
          await app.close();
        } finally {
          await emulator.close();
        }
      })()),
  };
}

async function gatewayRequest(
  baseUrl: string,
  apiKey: string,
  method: string,
  path: string,
  options: RequestOptions,
): Promise<GatewayResponse> {
  const headers: Record<string, string> = {};
  if (options.auth ?? true) headers.authorization = `Bearer ${apiKey}`;
  let body: string | undefined;
  if (options.rawBody !== undefined) {
    body = options.rawBody;
  } else if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers['content-type'] = 'application/json';
  }
  Object.assign(headers, options.headers);

  const response = await fetch(`${baseUrl}${path}`, { method, headers, body });
  const text = await response.text();
  const contentType = response.headers.get('content-type') ?? '';

  return {
    status: response.status,
    headers: response.headers,
    body: parseJson(text, contentType),
    text,
    contentType,
  };
}

function parseJson(text: string, contentType: string): any {
  if (!/json/i.test(contentType) || text.length === 0) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Calls the emulator's control API and throws on a non-2xx response, which means a broken test setup. */
async function control(
  emulator: RunningEmulator,
  method: string,
  path: string,
  body?: unknown,
): Promise<Record<string, any>> {
  const response = await fetch(`${emulator.url}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) {
    throw new Error(`emulator control ${method} ${path} failed with ${response.status}: ${text}`);
  }

  return JSON.parse(text) as Record<string, any>;
}

async function waitForBootLogin(stack: Stack, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const response = await stack.request('GET', '/v1/accounts');
    const accounts = (response.body?.accounts ?? []) as { state: string }[];
    if (
      response.status === 200 &&
      accounts.length > 0 &&
      accounts.every((a) => a.state !== 'starting')
    )
      return;
    if (Date.now() > deadline) {
      throw new Error(
        `the gateway's boot login did not end within ${timeoutMs} ms: ${response.status} ${response.text}`,
      );
    }
    await sleep(25);
  }
}

/** Collects pino's output: whole lines are parsed as JSON, a line that is not JSON is kept raw. */
class LogCapture {
  private text = '';
  private readonly parsed: Record<string, unknown>[] = [];
  private pending = '';
  readonly stream = new Writable({
    decodeStrings: false,
    write: (chunk: Buffer | string, _encoding, callback) => {
      this.append(typeof chunk === 'string' ? chunk : chunk.toString('utf8'));
      callback();
    },
  });

  lines(): Record<string, unknown>[] {
    return [...this.parsed];
  }

  raw(): string {
    return this.text;
  }

  private append(chunk: string): void {
    this.text += chunk;
    this.pending += chunk;
    let newline = this.pending.indexOf('\n');
    while (newline !== -1) {
      const line = this.pending.slice(0, newline).trim();
      this.pending = this.pending.slice(newline + 1);
      if (line.length > 0) this.parsed.push(parseLine(line));
      newline = this.pending.indexOf('\n');
    }
  }
}

function parseLine(line: string): Record<string, unknown> {
  try {
    return JSON.parse(line) as Record<string, unknown>;
  } catch {
    return { unparsed: line };
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `check` every `intervalMs` until it returns a value other than undefined, or throws at the timeout. */
export async function eventually<T>(
  check: () => Promise<T | undefined>,
  what: string,
  timeoutMs = 10_000,
  intervalMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(intervalMs);
  }
}
