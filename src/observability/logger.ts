import { trace } from '@opentelemetry/api';
import pino, { DestinationStream, Logger, LoggerOptions } from 'pino';
import { requestContext } from '../common/request-context';
import { REDACT_PATHS, scrubSecrets } from './redaction';

export interface LoggerSettings {
  level: string;
  pretty: boolean;
  /** Tests pass a stream to read the lines back; defaults to stdout. */
  destination?: DestinationStream;
  serviceVersion?: string;
}

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
    if (spanContext && spanContext.traceId !== '00000000000000000000000000000000') {
      fields.trace_id = spanContext.traceId;
      fields.span_id = spanContext.spanId;
    }
  } catch {
    // Correlation is best effort: a broken context must not cost the log line.
  }

  return fields;
}

function serializeError(err: unknown): Record<string, unknown> {
  if (!(err instanceof Error)) {
    return { type: typeof err, message: scrubSecrets(String(err)) };
  }
  const extra = err as Error & { code?: unknown; kind?: unknown; status?: unknown; operation?: unknown };

  return {
    type: err.name,
    message: scrubSecrets(err.message),
    stack: err.stack ? scrubSecrets(err.stack) : undefined,
    code: extra.code,
    kind: extra.kind,
    status: extra.status,
    operation: extra.operation,
  };
}

/**
 * Builds the root pino logger. A write failure (closed stdout, EPIPE) is swallowed at the
 * stream, so logging never fails a request.
 */
export function createRootLogger(settings: LoggerSettings): Logger {
  const options: LoggerOptions = {
    level: settings.level,
    base: { service: 'suno-gateway', version: settings.serviceVersion },
    timestamp: pino.stdTimeFunctions.isoTime,
    messageKey: 'msg',
    redact: { paths: REDACT_PATHS, censor: '[REDACTED]' },
    mixin: correlationFields,
    serializers: { err: serializeError, error: serializeError },
    formatters: { level: (label) => ({ level: label }) },
    hooks: {
      logMethod(args, method) {
        const scrubbed = args.map((a) => (typeof a === 'string' ? scrubSecrets(a) : a));
        method.apply(this, scrubbed as Parameters<typeof method>);
      },
    },
  };
  const destination = settings.destination ?? safeStdout(settings.pretty);

  return pino(options, destination);
}

function safeStdout(pretty: boolean): DestinationStream {
  if (pretty) {
    // Loaded lazily: production containers never pay for the pretty printer.
    const build = require('pino-pretty') as (opts: object) => DestinationStream;

    return build({ colorize: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,service,version' });
  }
  const stream = pino.destination({ dest: 1, sync: false });
  stream.on('error', () => undefined);

  return stream;
}
