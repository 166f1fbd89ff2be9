import { randomBytes } from 'node:crypto';
import { DEFAULT_ACCOUNT } from '../test/emulator/accounts';
import { EmulatorClient } from './emulator-client';
import { freePort, spawnService, waitForHttp, type CpuPlan, type Service } from './processes';

const READY_TIMEOUT_MS = 60_000;

/** Working directory, log directory and CPU plan of the services, shared by every scenario. */
export interface ServiceSettings {
  root: string;
  logDir: string;
  cpus: CpuPlan | null;
}

/** Settings the emulator process gets through its environment. */
export interface EmulatorSettings {
  generationS: number;
  jwtTtlS: number;
}

export interface RunningEmulator {
  service: Service;
  url: string;
  client: EmulatorClient;
}

export interface RunningGateway {
  service: Service;
  url: string;
  /** The API key clients send as `Authorization: Bearer <key>`. */
  apiKey: string;
  /** Every variable the harness set for this gateway, the API key and cookie masked. */
  env: Record<string, string>;
}

export interface RunningServer {
  service: Service;
  url: string;
}

/** Builds a minimal environment, so a variable of the caller's shell cannot change a figure. */
function baseEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of ['PATH', 'HOME', 'TMPDIR', 'LANG']) {
    const value = process.env[name];
    if (value !== undefined) env[name] = value;
  }

  return env;
}

const TS_NODE = ['-r', '@swc-node/register'];

export async function startEmulator(
  settings: ServiceSettings,
  emulator: EmulatorSettings,
): Promise<RunningEmulator> {
  const port = await freePort();
  const service = spawnService({
    name: 'emulator',
    nodeArgs: [...TS_NODE, 'test/emulator/main.ts'],
    cwd: settings.root,
    logDir: settings.logDir,
    cpuList: settings.cpus?.servers,
    env: {
      ...baseEnv(),
      EMULATOR_HOST: '127.0.0.1',
      EMULATOR_PORT: String(port),
      EMULATOR_GENERATION_S: String(emulator.generationS),
      EMULATOR_JWT_TTL_S: String(emulator.jwtTtlS),
      EMULATOR_QUIET: 'true',
    },
  });
  const url = `http://127.0.0.1:${port}`;
  await waitForHttp(service, `${url}/__emulator/config`, READY_TIMEOUT_MS);

  return { service, url, client: new EmulatorClient(url) };
}

/**
 * Starts `dist/main.js` against the emulator and waits for `/health/ready`. `overrides` adds
 * or replaces gateway variables, such as the observability switches.
 */
export async function startGateway(
  settings: ServiceSettings,
  input: { name: string; emulatorUrl: string; overrides?: Record<string, string> },
): Promise<RunningGateway> {
  const port = await freePort();
  const apiKey = `bench-${randomBytes(12).toString('hex')}`;
  const env: Record<string, string> = {
    NODE_ENV: 'production',
    HOST: '127.0.0.1',
    PORT: String(port),
    API_KEYS: `bench:${apiKey}`,
    SUNO_COOKIE: DEFAULT_ACCOUNT.cookie,
    SUNO_BASE_URL: input.emulatorUrl,
    SUNO_AUTH_URL: input.emulatorUrl,
    LOG_LEVEL: 'warn',
    // Equal to the gateway's default, set so the figure does not move if the default does.
    POLL_INTERVAL_MS: '2000',
    // Readiness drain only matters behind a load balancer; here it would only slow each stop.
    SHUTDOWN_DRAIN_MS: '0',
    ...input.overrides,
  };
  const service = spawnService({
    name: input.name,
    nodeArgs: ['dist/main.js'],
    cwd: settings.root,
    logDir: settings.logDir,
    cpuList: settings.cpus?.servers,
    env: { ...baseEnv(), ...env },
  });
  const url = `http://127.0.0.1:${port}`;
  await waitForHttp(service, `${url}/health/ready`, READY_TIMEOUT_MS);

  return {
    service,
    url,
    apiKey,
    env: { ...env, API_KEYS: 'bench:<random>', SUNO_COOKIE: '<emulator default account>' },
  };
}

/** Starts bench/minimal-proxy.ts in front of the emulator, adding `jwt` as the bearer token. */
export async function startMinimalProxy(
  settings: ServiceSettings,
  input: { emulatorUrl: string; jwt: string },
): Promise<RunningServer> {
  const port = await freePort();
  const service = spawnService({
    name: 'minimal-proxy',
    nodeArgs: [...TS_NODE, 'bench/minimal-proxy.ts'],
    cwd: settings.root,
    logDir: settings.logDir,
    cpuList: settings.cpus?.servers,
    env: {
      ...baseEnv(),
      PROXY_PORT: String(port),
      PROXY_UPSTREAM_URL: input.emulatorUrl,
      PROXY_BEARER_TOKEN: input.jwt,
    },
  });
  const url = `http://127.0.0.1:${port}`;
  await waitForHttp(service, `${url}/__proxy/ready`, READY_TIMEOUT_MS);

  return { service, url };
}

/**
 * Starts bench/otlp-sink.ts, which accepts OTLP/HTTP exports and discards them. It runs on
 * the load generator's CPU, because a real collector would not share the gateway's.
 */
export async function startOtlpSink(settings: ServiceSettings): Promise<RunningServer> {
  const port = await freePort();
  const service = spawnService({
    name: 'otlp-sink',
    nodeArgs: [...TS_NODE, 'bench/otlp-sink.ts'],
    cwd: settings.root,
    logDir: settings.logDir,
    cpuList: settings.cpus?.client,
    env: { ...baseEnv(), SINK_PORT: String(port) },
  });
  const url = `http://127.0.0.1:${port}`;
  await waitForHttp(service, `${url}/__sink/stats`, READY_TIMEOUT_MS);

  return { service, url };
}

/** Counters of the OTLP sink: export requests, spans inside them, body bytes, content types. */
export interface SinkStats {
  requests: number;
  spans: number;
  bytes: number;
  content_types: Record<string, number>;
}

export async function sinkStats(sink: RunningServer): Promise<SinkStats> {
  const response = await fetch(`${sink.url}/__sink/stats`, { signal: AbortSignal.timeout(5_000) });

  return (await response.json()) as SinkStats;
}

/**
 * Gateway variables with tracing and metrics on: spans exported over OTLP/HTTP to the sink,
 * and the `/metrics` endpoint served. This is the configuration of every gateway the harness
 * starts, except the "off" side of the observability scenario.
 */
export function observabilityOn(sink: RunningServer): Record<string, string> {
  return {
    OTEL_EXPORTER_OTLP_ENDPOINT: sink.url,
    OTEL_SERVICE_NAME: 'suno-gateway-bench',
    METRICS_ENABLED: 'true',
  };
}

/** Gateway variables with the OpenTelemetry SDK not started and `/metrics` not served. */
export function observabilityOff(): Record<string, string> {
  return { OTEL_SDK_DISABLED: 'true', METRICS_ENABLED: 'false' };
}
