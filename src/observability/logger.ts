import { isSpanContextValid, trace } from '@opentelemetry/api';
import pino, { DestinationStream, Logger, LoggerOptions } from 'pino';
import { requestContext } from '../common/request-context';
import { REDACTED, REDACT_PATHS, redactDeep, scrubSecrets } from './redaction';

export interface LoggerSettings {
  level: string;
  /** Human-readable output; honoured only when the output is stdout and stdout is a TTY. */
  pretty: boolean;
  /** Tests pass a stream to read the lines back; defaults to stdout. */
  destination?: DestinationStream;
  serviceVersion?: string;
}

/** Depth of `cause` chains written under `err`. */
const MAX_CAUSE_DEPTH = 3;

/** Fields every line carries when it is written inside a request or a span. */
function correlationFields(): Record<string, string> {
  const fields: Record<string, string> = {};
  try {
    const ctx = requestContext.get();
    if (ctx) {
      fields.request_id = ctx.requestId;
      if (ctx.accountId) fields.account = ctx.accountId;
      if (ctx.clientId) fields.client = ctx.clientId;
    }
    const spanContext = trace.getActiveSpan()?.spanContext();
    if (spanContext && isSpanContextValid(spanContext)) {
      fields.trace_id = spanContext.traceId;
      fields.span_id = spanContext.spanId;
    }
  } catch {
    // Correlation is best effort: a broken context must not cost the log line.
  }

  return fields;
}

/**
 * Turns an error into the `err` field: type, message and stack with secrets masked, the
 * gateway's own classification fields, and the first causes. Axios errors are reduced to
 * these fields, so their request config (with the Authorization header) never reaches a line.
 */
export function serializeError(err: Error, depth = 0): Record<string, unknown> {
  const extra = err as Error & {
    code?: unknown;
    kind?: unknown;
    status?: unknown;
    operation?: unknown;
    cause?: unknown;
  };
  const fields: Record<string, unknown> = {
    type: err.name,
    message: scrubSecrets(err.message),
    stack: err.stack ? scrubSecrets(err.stack) : undefined,
  };
  for (const key of ['code', 'kind', 'status', 'operation'] as const) {
    const value = extra[key];
    if (typeof value === 'string' || typeof value === 'number')
      fields[key] = typeof value === 'string' ? scrubSecrets(value) : value;
  }
  if (extra.cause instanceof Error && depth < MAX_CAUSE_DEPTH) {
    const { stack: _stack, ...cause } = serializeError(extra.cause, depth + 1);
    fields.cause = cause;
  }

  return fields;
}

/** pino serializer for `err`: errors are usually converted by `redactDeep` already, so plain objects pass through. */
function errSerializer(value: unknown): unknown {
  if (value instanceof Error) return serializeError(value);
  if (value !== null && typeof value === 'object') return value;

  return { type: typeof value, message: scrubSecrets(String(value)) };
}

function redactFields(object: Record<string, unknown>): Record<string, unknown> {
  try {
    return redactDeep(object, (err) => serializeError(err)) as Record<string, unknown>;
  } catch {
    // A getter that throws must not cost the line, nor leak the unredacted fields.
    return { log_fields_dropped: 'the fields of this line could not be read' };
  }
}

/**
 * Builds the root pino logger. It writes JSON lines with `time`, `level` and `msg`, plus
 * correlation ids from the request context and the active span. Credentials are redacted by
 * path (`REDACT_PATHS`), by key at any depth (`redactDeep`) and by shape over the whole line
 * (`scrubSecrets`).
 *
 * A failed write (closed stdout, EPIPE, a destination that throws) drops that line and never
 * reaches the caller, so logging cannot fail a request.
 */
export function createRootLogger(settings: LoggerSettings): Logger {
  const options: LoggerOptions = {
    level: settings.level,
    base: { service: 'suno-gateway', version: settings.serviceVersion },
    timestamp: pino.stdTimeFunctions.isoTime,
    messageKey: 'msg',
    redact: { paths: REDACT_PATHS, censor: REDACTED },
    mixin: correlationFields,
    serializers: { err: errSerializer, error: errSerializer },
    formatters: {
      level: (label) => ({ level: label }),
      log: redactFields,
    },
    hooks: {
      // The last pass, over the finished line: it also covers the message and `err.message`,
      // which pino copies into `msg` outside the formatters.
      streamWrite: scrubSecrets,
    },
  };
  const destination = guardWrites(settings.destination ?? stdoutDestination(settings.pretty));

  return pino(options, destination);
}

/**
 * Makes a destination drop lines instead of throwing, and swallows its asynchronous `error`
 * events. The method is patched in place so that pino still finds the stream's own
 * `flushSync` and exit handling.
 */
function guardWrites(destination: DestinationStream): DestinationStream {
  const stream = destination as DestinationStream & {
    on?: (event: string, listener: (err: unknown) => void) => unknown;
  };
  if (typeof stream.on === 'function') stream.on('error', () => undefined);
  const write = stream.write.bind(stream);
  stream.write = (chunk: string) => {
    try {
      write(chunk);
    } catch {
      // The line is lost; there is no safer place left to report that.
    }
  };

  return stream;
}

function stdoutDestination(pretty: boolean): DestinationStream {
  if (pretty && process.stdout.isTTY) {
    // Loaded lazily: production containers never pay for the pretty printer.
    const build = require('pino-pretty') as (opts: object) => DestinationStream;

    return build({
      colorize: true,
      translateTime: 'SYS:HH:MM:ss.l',
      ignore: 'pid,hostname,service,version',
    });
  }

  return pino.destination({ dest: 1, sync: false });
}
