/**
 * Load for the shutdown specs: HTTP requests that record what happened on the socket (new or
 * reused connection, connected or not, response started or not), and loops that send them
 * back to back until stopped.
 */
import { Agent, request, type IncomingHttpHeaders } from 'node:http';
import { randomUUID } from 'node:crypto';

/** What one request saw, from the client's side. */
export interface Outcome {
  requestId: string;
  method: string;
  path: string;
  /** Date.now() before the request was sent and when it ended. */
  startedMs: number;
  endedMs: number;
  status?: number;
  headers?: IncomingHttpHeaders;
  body?: string;
  /** Error code (ECONNREFUSED, ECONNRESET...) or message when no complete response arrived. */
  error?: string;
  /** The request went out on a keep-alive socket that had carried an earlier request. */
  reusedSocket: boolean;
  /** The TCP connection was established (always true for a reused socket). */
  connected: boolean;
  /** Response headers arrived before any error. */
  responseStarted: boolean;
}

export interface SendOptions {
  baseUrl: string;
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: unknown;
  /** A keep-alive agent to reuse connections, or false for one connection per request. */
  agent: Agent | false;
  timeoutMs: number;
}

/** Sends one request and resolves with its outcome; never rejects. */
export function send(options: SendOptions): Promise<Outcome> {
  const url = new URL(options.path, options.baseUrl);
  const requestId = randomUUID();
  const body = options.body === undefined ? undefined : JSON.stringify(options.body);
  const headers: Record<string, string> = { 'x-request-id': requestId, ...options.headers };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const outcome: Outcome = {
    requestId,
    method: options.method,
    path: options.path,
    startedMs: Date.now(),
    endedMs: 0,
    reusedSocket: false,
    connected: false,
    responseStarted: false,
  };

  return new Promise((resolve) => {
    const finish = (error?: string) => {
      if (outcome.endedMs !== 0) return;
      outcome.endedMs = Date.now();
      if (error !== undefined) outcome.error = error;
      resolve(outcome);
    };
    const req = request(url, { method: options.method, headers, agent: options.agent }, (res) => {
      outcome.responseStarted = true;
      outcome.status = res.statusCode;
      outcome.headers = res.headers;
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        outcome.body = Buffer.concat(chunks).toString('utf8');
        finish();
      });
      res.on('error', (err: NodeJS.ErrnoException) => finish(err.code ?? err.message));
    });
    req.on('socket', (socket) => {
      outcome.reusedSocket = req.reusedSocket;
      if (!socket.connecting) outcome.connected = true;
      else socket.once('connect', () => (outcome.connected = true));
    });
    req.setTimeout(options.timeoutMs, () =>
      req.destroy(new Error(`no response within ${options.timeoutMs} ms`)),
    );
    req.on('error', (err: NodeJS.ErrnoException) => finish(err.code ?? err.message));
    req.end(body);
  });
}

/** Concurrent loops that each send one request after the other until `stop`. */
export class LoadLoops {
  readonly outcomes: Outcome[] = [];
  private readonly loops: Promise<void>[] = [];
  private stopped = false;

  /**
   * Starts `count` loops of `next`. A loop pauses `pauseAfterErrorMs` after a failed request,
   * so a closed port is not hammered in a tight loop.
   */
  start(count: number, next: () => Promise<Outcome>, pauseAfterErrorMs = 20): void {
    for (let i = 0; i < count; i++) {
      this.loops.push(
        (async () => {
          while (!this.stopped) {
            const outcome = await next();
            this.outcomes.push(outcome);
            if (outcome.error !== undefined) await pause(pauseAfterErrorMs);
          }
        })(),
      );
    }
  }

  /** Lets each loop finish its current request and resolves when all have ended. */
  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.loops);
  }
}

export function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Resolves with the promise's value, or undefined when it has not settled within `ms`. */
export async function settleWithin<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => (timer = setTimeout(resolve, ms, undefined)));
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Polls `GET {baseUrl}/health/ready` on a new connection each time until it returns 200. */
export async function waitForReady(baseUrl: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no response yet';
  while (Date.now() < deadline) {
    const outcome = await send({
      baseUrl,
      method: 'GET',
      path: '/health/ready',
      agent: false,
      timeoutMs: 2_000,
    });
    if (outcome.status === 200) return;
    last = outcome.error ?? `${outcome.status} ${outcome.body}`;
    await pause(100);
  }
  throw new Error(`${baseUrl} was not ready within ${timeoutMs} ms; last response: ${last}`);
}

export interface ReadinessSample {
  atMs: number;
  /** HTTP status, or undefined when the request failed (see `error`). */
  status?: number;
  error?: string;
}

/** Polls readiness every `intervalMs` on new connections and keeps every sample. */
export class ReadinessWatch {
  readonly samples: ReadinessSample[] = [];
  private stopped = false;
  private readonly loop: Promise<void>;

  constructor(baseUrl: string, intervalMs: number) {
    this.loop = (async () => {
      while (!this.stopped) {
        const outcome = await send({
          baseUrl,
          method: 'GET',
          path: '/health/ready',
          agent: false,
          timeoutMs: 2_000,
        });
        this.samples.push({ atMs: outcome.endedMs, status: outcome.status, error: outcome.error });
        await pause(intervalMs);
      }
    })();
  }

  /** Returns the first sample at or after `sinceMs` that is not a 200, if any. */
  firstNotReadySince(sinceMs: number): ReadinessSample | undefined {
    return this.samples.find((s) => s.atMs >= sinceMs && s.status !== 200);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
  }
}
