/**
 * The smallest useful Node gateway, as a floor for the read-overhead scenario: plain
 * node:http, one keep-alive agent, every request forwarded to PROXY_UPSTREAM_URL with
 * `Authorization: Bearer PROXY_BEARER_TOKEN` added. No validation, retries, logs, metrics or
 * traces. Listens on 127.0.0.1:PROXY_PORT; `GET /__proxy/ready` returns 200 without calling the upstream.
 */
import {
  Agent,
  createServer,
  request,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';

// Hop-by-hop headers (RFC 9110, section 7.6.1) belong to one connection and are not forwarded.
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

function requiredEnv(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === '') {
    throw new Error(`minimal proxy: ${name} is required`);
  }

  return value;
}

function forwardedHeaders(
  headers: IncomingHttpHeaders,
  host: string,
  token: string,
): IncomingHttpHeaders {
  const out: IncomingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (!HOP_BY_HOP.has(name) && name !== 'host' && name !== 'authorization') out[name] = value;
  }
  out.host = host;
  out.authorization = `Bearer ${token}`;

  return out;
}

function main(): void {
  const upstream = new URL(requiredEnv('PROXY_UPSTREAM_URL'));
  const token = requiredEnv('PROXY_BEARER_TOKEN');
  const port = Number(requiredEnv('PROXY_PORT'));
  // 64 sockets matches the gateway's default UPSTREAM_MAX_SOCKETS_PER_HOST.
  const agent = new Agent({ keepAlive: true, maxSockets: 64, scheduling: 'lifo' });

  const forward = (req: IncomingMessage, res: ServerResponse): void => {
    const outgoing = request(
      {
        agent,
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        headers: forwardedHeaders(req.headers, upstream.host, token),
      },
      (answer) => {
        const headers: IncomingHttpHeaders = {};
        for (const [name, value] of Object.entries(answer.headers)) {
          if (!HOP_BY_HOP.has(name)) headers[name] = value;
        }
        res.writeHead(answer.statusCode ?? 502, headers);
        answer.pipe(res);
      },
    );
    outgoing.on('error', (error) => {
      if (res.headersSent) {
        res.destroy(error);
        return;
      }
      res.writeHead(502, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ detail: `upstream request failed: ${error.message}` }));
    });
    req.pipe(outgoing);
  };

  const server = createServer((req, res) => {
    if (req.url === '/__proxy/ready') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ready');
      return;
    }
    forward(req, res);
  });
  server.keepAliveTimeout = 60_000;
  server.listen(port, '127.0.0.1', () =>
    process.stdout.write(`minimal proxy listening on 127.0.0.1:${port}\n`),
  );

  const stop = (): void => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
    agent.destroy();
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main();
