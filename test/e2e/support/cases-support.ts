/**
 * Helpers of the upstream-failure specs (`cases-*.e2e-spec.ts`): pools of several accounts
 * configured through SUNO_ACCOUNTS_FILE, reads of the account views, logs and metrics, a
 * counting forward proxy and a stand-in for a retired auth host, all on 127.0.0.1.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunningEmulator } from '../../emulator';
import { startStack, type Stack, type StackOptions } from './harness';

/** One account of a pool: the same `__client` value is given to the emulator and the gateway. */
export interface PoolAccount {
  id: string;
  credits?: number;
  plan?: 'free' | 'pro';
}

export interface PoolOptions extends Omit<StackOptions, 'emulator'> {
  accounts: PoolAccount[];
  emulator?: Omit<NonNullable<StackOptions['emulator']>, 'accounts'>;
}

export interface PoolStack extends Stack {
  /** `__client` value of each account, by id. */
  clientValues: Record<string, string>;
}

/**
 * Starts the emulator with the given accounts and a gateway whose SUNO_ACCOUNTS_FILE lists
 * them in the same order. The accounts file is deleted when the stack closes.
 */
export async function startPool(options: PoolOptions): Promise<PoolStack> {
  const tag = randomBytes(6).toString('hex');
  const clientValues = Object.fromEntries(
    options.accounts.map((a) => [a.id, `pool-${a.id}-${tag}`]),
  );
  const dir = mkdtempSync(join(tmpdir(), 'suno-cases-'));
  const file = join(dir, 'accounts.json');
  writeFileSync(
    file,
    JSON.stringify(
      options.accounts.map((a) => ({ id: a.id, cookie: `__client=${clientValues[a.id]}` })),
    ),
  );
  try {
    const stack = await startStack({
      ...options,
      emulator: {
        ...options.emulator,
        accounts: options.accounts.map((a) => ({
          id: a.id,
          cookie: clientValues[a.id],
          credits: a.credits,
          plan: a.plan,
        })),
      },
      env: { SUNO_ACCOUNTS_FILE: file, ...options.env },
    });
    const close = stack.close;

    return Object.assign(stack, {
      clientValues,
      close: async () => {
        try {
          await close();
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      },
    });
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

/** `GET /v1/accounts` as a map from account id to its view. */
export async function accountViews(stack: Stack): Promise<Record<string, Record<string, any>>> {
  const response = await stack.request('GET', '/v1/accounts');
  if (response.status !== 200)
    throw new Error(`GET /v1/accounts returned ${response.status}: ${response.text}`);

  return Object.fromEntries(
    (response.body.accounts as Record<string, any>[]).map((a) => [a.id, a]),
  );
}

/** Returns the gateway's account state transition log lines for one account, oldest first. */
export function transitions(stack: Stack, accountId: string): Record<string, any>[] {
  return stack
    .logs()
    .filter(
      (line) =>
        line.account === accountId && typeof line.to === 'string' && typeof line.from === 'string',
    );
}

/** Reads one sample of the Prometheus exposition; 0 when the series does not exist yet. */
export async function metricValue(
  stack: Stack,
  name: string,
  labels: Record<string, string>,
): Promise<number> {
  const response = await stack.request('GET', '/metrics', { auth: false });
  if (response.status !== 200) throw new Error(`GET /metrics returned ${response.status}`);
  for (const line of response.text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const found = Object.fromEntries(
      [...(match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]),
    );
    if (Object.entries(labels).every(([key, value]) => found[key] === value))
      return Number(match[3]);
  }

  return 0;
}

/** Difference of the emulator's per-route request counts between two stats snapshots. */
export function routeDelta(
  before: { requests: Record<string, number> },
  after: { requests: Record<string, number> },
): Record<string, number> {
  const delta: Record<string, number> = {};
  for (const [route, count] of Object.entries(after.requests)) {
    const change = count - (before.requests[route] ?? 0);
    if (change !== 0) delta[route] = change;
  }

  return delta;
}

/**
 * Calls the emulator's control API before the gateway exists (in `beforeGateway`), where the
 * stack's own helpers are not available yet. Throws on a non-2xx response.
 */
export async function emulatorControl(
  emulator: RunningEmulator,
  method: string,
  path: string,
  body?: unknown,
): Promise<void> {
  const response = await fetch(`${emulator.url}/__emulator${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!response.ok)
    throw new Error(
      `emulator control ${method} ${path} returned ${response.status}: ${await response.text()}`,
    );
}

/**
 * Creates `count` generations on an emulator account directly, as the account's owner would in
 * a browser. Tests use it to bring an account to the emulator's captcha gate.
 */
export async function generateDirectly(
  emulator: RunningEmulator,
  clientValue: string,
  count: number,
): Promise<void> {
  const account = emulator.state.findAccountByClient(clientValue);
  if (!account) throw new Error('no emulator account has this __client value');
  const minted = await fetch(`${emulator.url}/v1/client/sessions/${account.sessionId}/tokens`, {
    method: 'POST',
    headers: { authorization: clientValue },
  });
  const { jwt } = (await minted.json()) as { jwt: string };
  for (let i = 0; i < count; i++) {
    const response = await fetch(`${emulator.url}/api/generate/v2/`, {
      method: 'POST',
      headers: { authorization: `Bearer ${jwt}`, 'content-type': 'application/json' },
      body: JSON.stringify({ gpt_description_prompt: `a warm-up song ${i}`, mv: 'chirp-v3-5' }),
    });
    if (response.status !== 200)
      throw new Error(`direct generate returned ${response.status}: ${await response.text()}`);
  }
}

/** A plain HTTP server on 127.0.0.1 that records each request line. */
export interface CountingServer {
  url: string;
  /** Request lines (`METHOD target`) in arrival order. */
  requests: string[];
  close(): Promise<void>;
}

/** Starts a stand-in for a retired host, which returns the same status and body on every path. */
export function startFixedServer(
  status: number,
  body: string,
  contentType: string,
): Promise<CountingServer> {
  return listen((requests) =>
    http.createServer((req, res) => {
      requests.push(`${req.method} ${req.url}`);
      req.resume();
      res.writeHead(status, { 'content-type': contentType }).end(body);
    }),
  );
}

/**
 * Starts a forward proxy for plain-HTTP targets. It takes requests whose target is an absolute
 * URL, sends them on without keep-alive and streams the response back. It rejects CONNECT and
 * answers 400 to a relative target, so a client that bypasses or misuses it shows in `requests`.
 */
export function startForwardProxy(): Promise<CountingServer> {
  return listen((requests) => {
    const server = http.createServer((req, res) => {
      requests.push(`${req.method} ${req.url}`);
      let target: URL;
      try {
        target = new URL(req.url ?? '');
      } catch {
        res.writeHead(400).end('a forward proxy needs an absolute URL');

        return;
      }
      const headers = { ...req.headers };
      delete headers['proxy-connection'];
      delete headers['proxy-authorization'];
      const upstream = http.request(
        {
          hostname: target.hostname,
          port: target.port,
          path: `${target.pathname}${target.search}`,
          method: req.method,
          headers: { ...headers, connection: 'close' },
          agent: false,
        },
        (upstreamResponse) => {
          res.writeHead(upstreamResponse.statusCode ?? 502, upstreamResponse.headers);
          upstreamResponse.pipe(res);
        },
      );
      upstream.on('error', () => res.destroy());
      req.pipe(upstream);
    });
    server.on('connect', (req, socket: net.Socket) => {
      requests.push(`CONNECT ${req.url}`);
      socket.end('HTTP/1.1 405 Method Not Allowed\r\n\r\n');
    });

    return server;
  });
}

async function listen(create: (requests: string[]) => http.Server): Promise<CountingServer> {
  const requests: string[] = [];
  const server = create(requests);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  let closing: Promise<void> | undefined;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      (closing ??= new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      })),
  };
}

/**
 * Records the host of every TCP connection this process opens until `stop()`, by wrapping
 * `net.Socket.prototype.connect`, through which Node's http client and fetch both connect.
 */
export function recordConnections(): { hosts: () => string[]; stop: () => void } {
  const hosts: string[] = [];
  const original = net.Socket.prototype.connect;
  net.Socket.prototype.connect = function connect(this: net.Socket, ...args: unknown[]) {
    // net.connect passes its normalised arguments as one array, whose first element is the options.
    const [first, second] = Array.isArray(args[0]) ? (args[0] as unknown[]) : args;
    if (first && typeof first === 'object') {
      const options = first as { host?: string; path?: string };
      hosts.push(
        typeof options.path === 'string' ? `unix:${options.path}` : (options.host ?? 'localhost'),
      );
    } else if (typeof first === 'number' || (typeof first === 'string' && /^\d+$/.test(first))) {
      hosts.push(typeof second === 'string' ? second : 'localhost');
    }

    return (original as (...a: unknown[]) => net.Socket).apply(this, args);
  } as typeof original;

  return {
    hosts: () => [...hosts],
    stop: () => {
      net.Socket.prototype.connect = original;
    },
  };
}
