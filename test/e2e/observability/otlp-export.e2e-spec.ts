import { ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { DEFAULT_ACCOUNT, startEmulator, type RunningEmulator } from '../../emulator';
import { API_KEY, CLIENT_ID, send } from './support';

const REPO_ROOT = path.resolve(__dirname, '../../..');
const TRACE_ID = '0af7651916cd43dd8448eb211c80319c';
const PARENT_SPAN_ID = 'b7ad6b7169203331';
/** OTLP span kind of a server span. */
const SPAN_KIND_SERVER = 2;

interface Received {
  path: string;
  contentType: string;
  body: Buffer;
}

/** A collector stand-in on 127.0.0.1 that accepts `POST /v1/traces` and keeps what arrives. */
class OtlpReceiver {
  readonly received: Received[] = [];
  private readonly server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      this.received.push({
        path: req.url ?? '',
        contentType: req.headers['content-type'] ?? '',
        body: Buffer.concat(chunks),
      });
      res
        .writeHead(200, { 'content-type': req.headers['content-type'] ?? 'application/json' })
        .end(req.headers['content-type']?.includes('json') ? '{}' : '');
    });
  });

  async start(): Promise<string> {
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');

    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

async function freePort(): Promise<number> {
  const server = http.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));

  return port;
}

async function waitUntilStarted(baseUrl: string, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null)
      throw new Error(`the gateway exited with ${child.exitCode} before it started`);
    const answer = await send(baseUrl, '/health/startup', { anonymous: true }).catch(
      () => undefined,
    );
    if (answer?.status === 200) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('the gateway did not report started within 60 s');
}

type OtlpAttribute = { key: string; value: { stringValue?: string; intValue?: number | string } };
type OtlpSpan = {
  name: string;
  kind: number;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  attributes: OtlpAttribute[];
};
type ResourceSpans = {
  resource: { attributes: OtlpAttribute[] };
  scopeSpans: Array<{ spans: OtlpSpan[] }>;
};

function attribute(attributes: OtlpAttribute[], key: string): string | undefined {
  return attributes.find((a) => a.key === key)?.value.stringValue;
}

interface GatewayRun {
  exitCode: number | null;
  stderr: string;
  received: Received[];
}

/**
 * Runs the gateway as `node -r @swc-node/register src/main.ts` against the emulator, with
 * OTLP export to a receiver and a batch delay far beyond the test, so spans can only arrive
 * through the flush at shutdown. Sends one traced `GET /v1/credits`, then SIGTERM.
 */
async function runGateway(
  emulator: RunningEmulator,
  otelEnv: Record<string, string>,
): Promise<GatewayRun> {
  const receiver = new OtlpReceiver();
  const receiverUrl = await receiver.start();
  const port = await freePort();
  const child = spawn(process.execPath, ['-r', '@swc-node/register', 'src/main.ts'], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'ignore', 'pipe'],
    env: {
      PATH: process.env.PATH,
      NODE_ENV: 'test',
      HOST: '127.0.0.1',
      PORT: String(port),
      API_KEYS: `${CLIENT_ID}:${API_KEY}`,
      SUNO_COOKIE: DEFAULT_ACCOUNT.cookie,
      SUNO_BASE_URL: emulator.url,
      SUNO_AUTH_URL: emulator.url,
      SESSION_BACKGROUND_REFRESH: 'false',
      SHUTDOWN_DRAIN_MS: '0',
      SHUTDOWN_WAIT_CAP_MS: '1000',
      LOG_LEVEL: 'warn',
      DEPLOYMENT_ENVIRONMENT: 'e2e',
      OTEL_EXPORTER_OTLP_ENDPOINT: receiverUrl,
      OTEL_BSP_SCHEDULE_DELAY: '600000',
      ...otelEnv,
    },
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const exited = once(child, 'exit');
  try {
    const baseUrl = `http://127.0.0.1:${port}`;
    await waitUntilStarted(baseUrl, child);
    const answer = await send(baseUrl, '/v1/credits', {
      headers: { traceparent: `00-${TRACE_ID}-${PARENT_SPAN_ID}-01` },
    });
    if (answer.status !== 200)
      throw new Error(`GET /v1/credits answered ${answer.status}: ${answer.text}`);
    if (receiver.received.length > 0)
      throw new Error('spans arrived before shutdown although the batch delay is 10 minutes');

    child.kill('SIGTERM');
    const [exitCode] = (await exited) as [number | null];

    return { exitCode, stderr, received: receiver.received };
  } finally {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
    await receiver.close();
  }
}

describe('OTLP export from the gateway process', () => {
  let emulator: RunningEmulator;

  beforeAll(async () => {
    emulator = await startEmulator({ port: 0, quiet: true });
  });

  afterAll(async () => {
    await emulator?.close();
  });

  it('flushes spans as OTLP JSON on SIGTERM', async () => {
    const run = await runGateway(emulator, { OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' });

    expect({ exitCode: run.exitCode, stderr: run.stderr }).toEqual({ exitCode: 0, stderr: '' });
    expect(run.received.length).toBeGreaterThan(0);
    for (const request of run.received) {
      expect(request.path).toBe('/v1/traces');
      expect(request.contentType).toMatch(/^application\/json/);
    }
    const resourceSpans = run.received.flatMap(
      (r) =>
        (JSON.parse(r.body.toString('utf8')) as { resourceSpans: ResourceSpans[] }).resourceSpans,
    );
    const resource = resourceSpans[0]?.resource.attributes ?? [];
    expect(attribute(resource, 'service.name')).toBe('suno-gateway');
    expect(attribute(resource, 'service.version')).toMatch(/^\d+\.\d+\.\d+/);
    expect(attribute(resource, 'deployment.environment')).toBe('e2e');
    const spans = resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans));
    const server = spans.find((s) => s.name === 'GET /v1/credits');
    expect(server).toMatchObject({
      kind: SPAN_KIND_SERVER,
      traceId: TRACE_ID,
      parentSpanId: PARENT_SPAN_ID,
    });
    expect(spans.filter((s) => s.parentSpanId === server?.spanId).map((s) => s.name)).toContain(
      'GET billing',
    );
  }, 90_000);

  it('sends protobuf when no protocol is set', async () => {
    const run = await runGateway(emulator, {});

    expect({ exitCode: run.exitCode, stderr: run.stderr }).toEqual({ exitCode: 0, stderr: '' });
    expect(run.received.length).toBeGreaterThan(0);
    for (const request of run.received) {
      expect(request.path).toBe('/v1/traces');
      expect(request.contentType).toBe('application/x-protobuf');
    }
    // Protobuf stores strings as UTF-8, so names are found without decoding the message.
    const body = Buffer.concat(run.received.map((r) => r.body));
    expect(body.includes('GET /v1/credits')).toBe(true);
    expect(body.includes('suno-gateway')).toBe(true);
  }, 90_000);
});
