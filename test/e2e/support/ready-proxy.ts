/**
 * A small reverse proxy on 127.0.0.1 that plays the part of a Kubernetes Service with its
 * endpoint controller: it polls each replica's `/health/ready` every `pollIntervalMs` and
 * sends requests only to replicas whose last poll returned 200. A request is retried on
 * another replica only when its connection was refused before anything was sent, because
 * only then is it certain that no replica saw it (a POST may create songs).
 */
import {
  Agent,
  createServer,
  request,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { pause, send } from './load';

/** Headers that belong to one connection and are never forwarded (RFC 9110, section 7.6.1). */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'te',
  'trailer',
  'proxy-authenticate',
  'proxy-authorization',
]);

export interface ReadinessChange {
  backend: string;
  ready: boolean;
  atMs: number;
  /** The poll result that caused the change: a status code or an error code. */
  cause: string;
}

export interface ProxyStats {
  /** Responses relayed per replica URL. */
  relayed: Record<string, number>;
  /** Requests sent again to another replica after a refused connection. */
  retriedAfterRefusal: number;
  /** Requests that failed after reaching a replica; the proxy returned 502. */
  failed: number;
  /** Requests that found no ready replica; the proxy returned 503. */
  noReadyReplica: number;
}

interface Backend {
  url: string;
  ready: boolean;
  polling: boolean;
  poller: Promise<void>;
  /** Polls in a row that got no response in time. */
  timeouts: number;
}

type ForwardResult = 'relayed' | 'refused' | 'failed';

/** Like the probes' timeoutSeconds in deploy/k8s. */
const POLL_TIMEOUT_MS = 2_000;
const TIMEOUTS_TO_FAIL = 2;

export class ReadyProxy {
  readonly changes: ReadinessChange[] = [];
  readonly stats: ProxyStats = {
    relayed: {},
    retriedAfterRefusal: 0,
    failed: 0,
    noReadyReplica: 0,
  };
  private readonly backends = new Map<string, Backend>();
  private readonly agent = new Agent({ keepAlive: true });
  private next = 0;

  private constructor(
    private readonly server: Server,
    private readonly pollIntervalMs: number,
  ) {
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      this.handle(req, res).catch(() => res.destroy());
    });
    // Longer than any spec, so the proxy never closes an idle keep-alive socket that a client is
    // about to reuse. That race would fail requests for reasons outside the gateway.
    server.keepAliveTimeout = 600_000;
  }

  /** Starts the proxy on 127.0.0.1 with a free port. */
  static async start(pollIntervalMs = 100): Promise<ReadyProxy> {
    const proxy = new ReadyProxy(createServer(), pollIntervalMs);
    await new Promise<void>((resolve) => proxy.server.listen(0, '127.0.0.1', resolve));

    return proxy;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Adds a replica; it receives requests once a readiness poll returned 200. */
  add(url: string): void {
    const backend: Backend = {
      url,
      ready: false,
      polling: true,
      poller: Promise.resolve(),
      timeouts: 0,
    };
    backend.poller = this.poll(backend);
    this.backends.set(url, backend);
  }

  /** Stops polling and routing to a replica. */
  async remove(url: string): Promise<void> {
    const backend = this.backends.get(url);
    if (!backend) return;
    this.backends.delete(url);
    backend.polling = false;
    await backend.poller;
  }

  isReady(url: string): boolean {
    return this.backends.get(url)?.ready ?? false;
  }

  /** Resolves once the proxy routes to `url`. */
  async waitUntilReady(url: string, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.isReady(url)) {
      if (Date.now() > deadline)
        throw new Error(`the proxy did not see ${url} ready within ${timeoutMs} ms`);
      await pause(20);
    }
  }

  async close(): Promise<void> {
    await Promise.all([...this.backends.keys()].map((url) => this.remove(url)));
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
    this.agent.destroy();
  }

  /**
   * A response other than 200 or a refused connection takes the replica out at once. A poll
   * without a response in POLL_TIMEOUT_MS counts only when TIMEOUTS_TO_FAIL come in a row, as
   * the kubelet's failureThreshold does, so a replica slowed by a busy CI machine stays in.
   */
  private async poll(backend: Backend): Promise<void> {
    while (backend.polling) {
      const outcome = await send({
        baseUrl: backend.url,
        method: 'GET',
        path: '/health/ready',
        agent: false,
        timeoutMs: POLL_TIMEOUT_MS,
      });
      const answered = outcome.status !== undefined || outcome.error === 'ECONNREFUSED';
      backend.timeouts = answered ? 0 : backend.timeouts + 1;
      const ready =
        outcome.status === 200 ||
        (!answered && backend.ready && backend.timeouts < TIMEOUTS_TO_FAIL);
      if (ready !== backend.ready && backend.polling)
        this.setReady(backend, ready, String(outcome.status ?? outcome.error));
      await pause(this.pollIntervalMs);
    }
  }

  private setReady(backend: Backend, ready: boolean, cause: string): void {
    backend.ready = ready;
    this.changes.push({ backend: backend.url, ready, atMs: Date.now(), cause });
  }

  private pick(tried: ReadonlySet<string>): Backend | undefined {
    const candidates = [...this.backends.values()].filter((b) => b.ready && !tried.has(b.url));
    if (candidates.length === 0) return undefined;
    this.next = (this.next + 1) % candidates.length;

    return candidates[this.next];
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    const tried = new Set<string>();
    for (;;) {
      const backend = this.pick(tried);
      if (!backend) {
        this.stats.noReadyReplica += 1;
        res.writeHead(503, { 'x-ready-proxy': 'no ready replica' }).end();

        return;
      }
      tried.add(backend.url);
      const result = await this.forward(backend, req, body, res);
      if (result !== 'refused') return;
      this.stats.retriedAfterRefusal += 1;
      if (backend.ready) this.setReady(backend, false, 'ECONNREFUSED on a request');
    }
  }

  private forward(
    backend: Backend,
    req: IncomingMessage,
    body: Buffer,
    res: ServerResponse,
  ): Promise<ForwardResult> {
    return new Promise((resolve) => {
      let connected = false;
      let responded = false;
      const upstream = request(new URL(req.url ?? '/', backend.url), {
        method: req.method,
        headers: endToEnd(req.headers),
        agent: this.agent,
      });
      upstream.on('socket', (socket) => {
        if (!socket.connecting) connected = true;
        else socket.once('connect', () => (connected = true));
      });
      upstream.on('response', (reply) => {
        responded = true;
        res.writeHead(reply.statusCode ?? 502, endToEnd(reply.headers));
        reply.pipe(res);
        reply.on('end', () => {
          this.stats.relayed[backend.url] = (this.stats.relayed[backend.url] ?? 0) + 1;
          resolve('relayed');
        });
        reply.on('error', () => {
          this.stats.failed += 1;
          res.destroy();
          resolve('failed');
        });
      });
      upstream.on('error', (err: NodeJS.ErrnoException) => {
        if (responded) return;
        if (err.code === 'ECONNREFUSED' && !connected) return resolve('refused');
        this.stats.failed += 1;
        res.writeHead(502, { 'x-ready-proxy': `replica failed: ${err.code ?? err.message}` }).end();
        resolve('failed');
      });
      upstream.end(body);
    });
  }
}

function endToEnd(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  const forwarded: IncomingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (!HOP_BY_HOP.has(name) && name !== 'host') forwarded[name] = value;
  }

  return forwarded;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}
