/**
 * A stand-in OTLP/HTTP collector for the observability scenario. It listens on
 * 127.0.0.1:SINK_PORT, responds to every POST with 200 and an empty export response, and
 * discards the export after counting it. `GET /__sink/stats` returns `{requests, spans,
 * bytes, content_types}`. Spans are counted in `http/protobuf` and `http/json` exports, gzipped or not.
 */
import { createServer } from 'node:http';
import { gunzipSync } from 'node:zlib';

interface OtlpJson {
  resourceSpans?: { scopeSpans?: { spans?: unknown[] }[] }[];
}

/** One field of a protobuf message; `bytes` is set for length-delimited fields only. */
interface ProtoField {
  field: number;
  bytes?: Buffer;
}

/** Walks the top-level fields of a protobuf message; throws on a truncated message. */
function* protoFields(message: Buffer): Generator<ProtoField> {
  let offset = 0;
  const varint = (): number => {
    let value = 0;
    for (let shift = 0; ; shift += 7) {
      if (offset >= message.length) throw new Error('truncated varint');
      const byte = message[offset++];
      value += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) return value;
    }
  };
  while (offset < message.length) {
    const tag = varint();
    const wireType = tag % 8;
    const field = Math.floor(tag / 8);
    if (wireType === 0) varint();
    else if (wireType === 1) offset += 8;
    else if (wireType === 5) offset += 4;
    else if (wireType === 2) {
      const length = varint();
      yield { field, bytes: message.subarray(offset, offset + length) };
      offset += length;
      continue;
    } else throw new Error(`unsupported wire type ${wireType}`);
    yield { field };
  }
}

/** Lists the length-delimited fields with number `field`. */
function children(message: Buffer, field: number): Buffer[] {
  const found: Buffer[] = [];
  for (const entry of protoFields(message)) {
    if (entry.field === field && entry.bytes) found.push(entry.bytes);
  }

  return found;
}

// ExportTraceServiceRequest.resource_spans = 1, ResourceSpans.scope_spans = 2, ScopeSpans.spans = 2.
function countProtobufSpans(body: Buffer): number {
  let spans = 0;
  for (const resource of children(body, 1)) {
    for (const scope of children(resource, 2)) spans += children(scope, 2).length;
  }

  return spans;
}

/** Counts the spans of an export; throws when a protobuf body does not decode. */
function countSpans(body: Buffer, contentType: string | undefined): number {
  if (contentType?.includes('protobuf')) return countProtobufSpans(body);
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
  const totals = { requests: 0, spans: 0, bytes: 0, content_types: {} as Record<string, number> };

  const server = createServer((req, res) => {
    if (req.method === 'GET' && req.url === '/__sink/stats') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(totals));
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const contentType = req.headers['content-type'];
      totals.requests += 1;
      totals.bytes += raw.length;
      const type = contentType ?? 'none';
      totals.content_types[type] = (totals.content_types[type] ?? 0) + 1;
      try {
        const body = req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw;
        totals.spans += countSpans(body, contentType);
      } catch {
        // A body that does not decode still counts as a request and its bytes.
      }
      // An empty ExportTraceServiceResponse: zero bytes in protobuf, `{}` in JSON.
      if (contentType?.includes('json')) {
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      } else {
        res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
      }
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
