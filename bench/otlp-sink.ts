/**
 * A stand-in OTLP/HTTP collector for the observability scenario: listens on
 * 127.0.0.1:SINK_PORT, responds to every POST with 200 `{}` and discards the body after counting
 * it. `GET /__sink/stats` returns `{requests, spans, bytes}`; spans are counted only in
 * JSON exports (the gateway's OTLP HTTP exporter sends JSON), protobuf bodies add bytes only.
 */
import { createServer } from 'node:http';

interface OtlpJson {
  resourceSpans?: { scopeSpans?: { spans?: unknown[] }[] }[];
}

function countSpans(body: Buffer, contentType: string | undefined): number {
  if (!contentType?.includes('json')) return 0;

  try {
    const parsed = JSON.parse(body.toString('utf8')) as OtlpJson;
    let spans = 0;
    for (const resource of parsed.resourceSpans ?? []) {
      for (const scope of resource.scopeSpans ?? []) spans += scope.spans?.length ?? 0;
    }

    return spans;
  } catch {
    return 0;
  }
}

function main(): void {
  const port = Number(process.env.SINK_PORT);
  if (!Number.isInteger(port) || port <= 0) {
    throw new Error(
      `otlp sink: SINK_PORT must be a port number, got ${JSON.stringify(process.env.SINK_PORT)}`,
    );
  }
  const totals = { requests: 0, spans: 0, bytes: 0 };

  const server = createServer((req, res) => {
    if (req.method === 'GET' && req.url === '/__sink/stats') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(totals));
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      totals.requests += 1;
      totals.bytes += body.length;
      totals.spans += countSpans(body, req.headers['content-type']);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  server.listen(port, '127.0.0.1', () =>
    process.stdout.write(`otlp sink listening on 127.0.0.1:${port}\n`),
  );

  const stop = (): void => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main();
