import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { songAudio } from './audio';
import { resolveOptions, type EmulatorOptions } from './config';
import { CONTROL_PREFIX, handleControl } from './control';
import { faultReply } from './faults';
import { BodyTooLarge, detailReply, readBody, UNKNOWN_ROUTE, type Reply } from './http';
import { matchRoute, type RouteMatch } from './routes';
import { EmulatorState } from './state';

export interface RunningEmulator {
  /** Base URL of the listening server, such as http://127.0.0.1:45678. */
  url: string;
  port: number;
  /** Direct access for tests: accounts, clips, stats and config. */
  state: EmulatorState;
  /** Stops listening and destroys every open socket, hung and keep-alive ones included. */
  close(): Promise<void>;
}

interface Runtime {
  readonly state: EmulatorState;
  readonly quiet: boolean;
  /** Timers of `delay` faults, cleared on close so that nothing keeps the process alive. */
  readonly timers: Set<NodeJS.Timeout>;
  closed: boolean;
}

/** Starts the emulator and resolves once it listens. */
export async function startEmulator(options: EmulatorOptions = {}): Promise<RunningEmulator> {
  const resolved = resolveOptions(options);
  // Encoding blocks the event loop for a moment, so it happens before the first request.
  songAudio(resolved.clipDurationS);
  const state = new EmulatorState(resolved);
  const runtime: Runtime = { state, quiet: resolved.quiet, timers: new Set(), closed: false };
  const server = createServer((req, res) => {
    handleRequest(runtime, req, res).catch((error: unknown) => {
      console.error(`emulator: ${req.method} ${req.url} failed:`, error);
      res.destroy();
    });
  });

  const port = await listen(server, resolved.host, resolved.port);
  const url = `http://${hostForUrl(resolved.host)}:${port}`;
  state.publicUrl = resolved.publicUrl ?? url;
  let closing: Promise<void> | null = null;

  return {
    url,
    port,
    state,
    close: () => (closing ??= closeServer(server, runtime)),
  };
}

function listen(server: Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

function hostForUrl(host: string): string {
  if (host === '0.0.0.0') return '127.0.0.1';
  if (host === '::') return '[::1]';

  return host.includes(':') ? `[${host}]` : host;
}

function closeServer(server: Server, runtime: Runtime): Promise<void> {
  runtime.closed = true;
  for (const timer of runtime.timers) clearTimeout(timer);
  runtime.timers.clear();

  return new Promise((resolve, reject) => {
    server.close((error) => (error ? reject(error) : resolve()));
    server.closeAllConnections();
  });
}

async function handleRequest(
  runtime: Runtime,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const method = req.method ?? 'GET';
  const rawUrl = req.url ?? '/';
  const queryAt = rawUrl.indexOf('?');
  const path = queryAt === -1 ? rawUrl : rawUrl.slice(0, queryAt);
  const search = queryAt === -1 ? '' : rawUrl.slice(queryAt + 1);
  if (!runtime.quiet) logWhenDone(res, method, path);

  if (path === CONTROL_PREFIX || path.startsWith(`${CONTROL_PREFIX}/`)) {
    const body = await readRequestBody(req, res);
    if (body !== null) {
      send(res, handleControl(runtime.state, { method, path, body, now: Date.now() }));
    }
    return;
  }

  await serveUpstreamRoute(runtime, { req, res, method, path, search });
}

interface Exchange {
  req: IncomingMessage;
  res: ServerResponse;
  method: string;
  path: string;
  search: string;
}

/** Counts the request, applies the first fault that hits it, and runs the route's handler. */
async function serveUpstreamRoute(runtime: Runtime, exchange: Exchange): Promise<void> {
  const { state } = runtime;
  const { req, res, method } = exchange;
  const match = matchRoute(method, exchange.path);
  const name = match?.name ?? UNKNOWN_ROUTE;
  state.stats.requests[name] += 1;

  const fault = state.faults.pick(name, Date.now());
  if (fault !== null) state.stats.faults_hit += 1;
  const action = fault?.spec.action;
  if (fault !== null && action === 'status') return send(res, faultReply(fault.spec));
  // A hung request keeps its socket until the client gives up or close() destroys it.
  if (action === 'hang') return;
  if (action === 'reset_before') return resetConnection(req);

  const body = hasBody(method) ? await readRequestBody(req, res) : '';
  if (body === null) return;
  if (fault !== null && action === 'delay') {
    await sleep(runtime, fault.spec.delay_ms);
    // The work is done even when the client gave up meanwhile, as the upstream does: a submit
    // that timed out on the client still creates its clips.
    if (runtime.closed) return;
  }
  const reply =
    match === null ? detailReply(404, 'Not Found') : runHandler(runtime, match, exchange, body);
  if (action === 'reset_after') return resetConnection(req);
  send(res, reply);
}

function runHandler(runtime: Runtime, match: RouteMatch, exchange: Exchange, body: string): Reply {
  try {
    return match.handler({
      method: exchange.method,
      path: exchange.path,
      query: new URLSearchParams(exchange.search),
      params: match.params,
      headers: exchange.req.headers,
      body,
      now: Date.now(),
      state: runtime.state,
    });
  } catch (error) {
    console.error(`emulator: handler of route ${match.name} failed:`, error);

    return detailReply(500, 'Internal Server Error');
  }
}

function hasBody(method: string): boolean {
  return method === 'POST' || method === 'PUT' || method === 'PATCH' || method === 'DELETE';
}

/** Returns the body, or null after sending 413 or when the client went away. */
async function readRequestBody(req: IncomingMessage, res: ServerResponse): Promise<string | null> {
  try {
    return await readBody(req);
  } catch (error) {
    if (error instanceof BodyTooLarge) send(res, detailReply(413, error.message));

    return null;
  }
}

function send(res: ServerResponse, reply: Reply): void {
  if (res.destroyed || res.headersSent) return;

  const length = typeof reply.body === 'string' ? Buffer.byteLength(reply.body) : reply.body.length;
  res.writeHead(reply.status, { ...reply.headers, 'content-length': length });
  res.end(reply.body);
}

/** Drops the connection with a TCP reset, so the client sees ECONNRESET and no response. */
function resetConnection(req: IncomingMessage): void {
  req.socket.resetAndDestroy();
}

function sleep(runtime: Runtime, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      runtime.timers.delete(timer);
      resolve();
    }, ms);
    runtime.timers.add(timer);
  });
}

function logWhenDone(res: ServerResponse, method: string, path: string): void {
  const started = Date.now();
  res.once('close', () => {
    const outcome = res.writableFinished ? String(res.statusCode) : 'dropped';
    process.stdout.write(
      `${new Date().toISOString()} ${method} ${path} ${outcome} ${Date.now() - started}ms\n`,
    );
  });
}
