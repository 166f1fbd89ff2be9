import { randomUUID } from 'node:crypto';
import {
  Context,
  ROOT_CONTEXT,
  Span,
  SpanKind,
  SpanStatusCode,
  TraceFlags,
  context,
  isSpanContextValid,
  propagation,
  trace,
} from '@opentelemetry/api';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { RequestContext, requestContext } from '../common/request-context';
import { MetricsService } from './metrics.service';
import { scrubSecrets } from './redaction';
import { Attr } from './span-attributes';
import { tracer } from './tracing';

/** Routes that are scraped or probed every few seconds; they get no log line and no span. */
const QUIET_ROUTES = new Set(['/health/live', '/health/ready', '/health/startup', '/metrics']);

/** `http_route` label of requests that matched no route, so unknown paths cannot add series. */
export const UNMATCHED_ROUTE = 'unmatched';

/** Status recorded for a request whose client closed the connection before the response (nginx's convention). */
export const CLIENT_CLOSED_STATUS = 499;

const REQUEST_ID_PATTERN = /^[\w.:@-]{1,128}$/;

/** Methods kept as label values. Any other becomes `_OTHER`, as the OpenTelemetry HTTP semantic conventions require. */
const KNOWN_METHODS = new Set([
  'GET',
  'HEAD',
  'POST',
  'PUT',
  'DELETE',
  'CONNECT',
  'OPTIONS',
  'TRACE',
  'PATCH',
]);

/** The problem response a request ended with, recorded by the error filter. */
export interface RequestProblem {
  code: string;
  status: number;
  /** The underlying error, written under `err` (with its stack) for 5xx responses. */
  error?: unknown;
}

interface Observation {
  ctx: RequestContext;
  /** Undefined for quiet routes. */
  span?: Span;
  /** The caller's trace context with the server span set, active while the request runs. */
  active: Context;
  startNs: bigint;
  method: string;
  route: string;
  quiet: boolean;
  finished: boolean;
  problem?: RequestProblem;
}

declare module 'fastify' {
  interface FastifyRequest {
    observation?: Observation;
  }
}

/** Reads the caller's `X-Request-Id` when it is safe to echo, or makes a new one. */
export function resolveRequestId(header: unknown): string {
  return typeof header === 'string' && REQUEST_ID_PATTERN.test(header) ? header : randomUUID();
}

/**
 * Records the problem response of a request, so that its completion line carries the code
 * and, for 5xx, the error. Returns false outside an observed request, where the caller
 * has to log the error itself.
 */
export function recordProblem(request: FastifyRequest, problem: RequestProblem): boolean {
  if (!request.observation) return false;
  request.observation.problem = problem;

  return true;
}

/**
 * Fastify hooks that give every request its id (echoed in `x-request-id`), its server span
 * named `{method} {route}` as a child of the caller's `traceparent`, its duration sample and
 * one log line. The span and the request context are entered in `onRequest` and again in
 * `preHandler`, because body parsing runs in the socket's async context and loses them.
 */
export function registerHttpObservability(
  fastify: FastifyInstance,
  logger: Logger,
  metrics: MetricsService,
): void {
  fastify.addHook('onRequest', (request, reply, done) => {
    const observation = start(request, reply);
    request.observation = observation;
    // 'close' follows 'finish' on a normal response. Without 'finish', the client went away
    // before the response, and Fastify runs no onResponse hook for the request.
    reply.raw.once('close', () => {
      if (!reply.raw.writableFinished)
        finish(request, CLIENT_CLOSED_STATUS, { logger, metrics, aborted: true });
    });
    context.with(observation.active, () => requestContext.run(observation.ctx, done));
  });

  fastify.addHook('preHandler', (request, _reply, done) => {
    const observation = request.observation;
    if (!observation) return done();
    context.with(observation.active, () => requestContext.run(observation.ctx, done));
  });

  fastify.addHook('onResponse', (request, reply, done) => {
    finish(request, reply.statusCode, { logger, metrics, aborted: false });
    done();
  });
}

function start(request: FastifyRequest, reply: FastifyReply): Observation {
  const requestId = resolveRequestId(request.headers['x-request-id']);
  void reply.header('x-request-id', requestId);
  const method = KNOWN_METHODS.has(request.method) ? request.method : '_OTHER';
  const template = request.routeOptions?.url;
  const route = template ?? UNMATCHED_ROUTE;
  const quiet = template !== undefined && QUIET_ROUTES.has(template);
  const parent = propagation.extract(ROOT_CONTEXT, request.headers);
  const ctx: RequestContext = { requestId, route };
  if (quiet) {
    return {
      ctx,
      active: parent,
      startNs: process.hrtime.bigint(),
      method,
      route,
      quiet,
      finished: false,
    };
  }

  const span = tracer().startSpan(
    template === undefined ? method : `${method} ${template}`,
    {
      kind: SpanKind.SERVER,
      attributes: serverSpanAttributes(request, { method, template, requestId }),
    },
    parent,
  );

  return {
    ctx,
    span,
    active: trace.setSpan(parent, span),
    startNs: process.hrtime.bigint(),
    method,
    route,
    quiet,
    finished: false,
  };
}

function serverSpanAttributes(
  request: FastifyRequest,
  facts: { method: string; template?: string; requestId: string },
) {
  return {
    [Attr.httpMethod]: facts.method,
    ...(facts.method === '_OTHER' ? { [Attr.httpMethodOriginal]: request.method } : {}),
    ...(facts.template === undefined ? {} : { [Attr.httpRoute]: facts.template }),
    [Attr.urlPath]: pathOf(request),
    [Attr.urlScheme]: request.protocol,
    [Attr.networkProtocolVersion]: request.raw.httpVersion,
    [Attr.requestId]: facts.requestId,
  };
}

/** Returns the request path without its query string, which may carry ids or tokens. */
function pathOf(request: FastifyRequest): string {
  return request.url.split('?')[0] ?? request.url;
}

interface FinishDeps {
  logger: Logger;
  metrics: MetricsService;
  aborted: boolean;
}

function finish(request: FastifyRequest, status: number, deps: FinishDeps): void {
  const observation = request.observation;
  if (!observation || observation.finished) return;
  observation.finished = true;
  const durationS = Number(process.hrtime.bigint() - observation.startNs) / 1e9;
  const spanContext = observation.span?.spanContext();
  const traced = spanContext && isSpanContextValid(spanContext) ? spanContext : undefined;
  // Exemplars only point at traces that were sampled, so that the trace can be opened.
  const exemplarTraceId =
    traced && (traced.traceFlags & TraceFlags.SAMPLED) !== 0 ? traced.traceId : undefined;

  endSpan(observation, status);
  deps.metrics.observe(
    deps.metrics.m.httpServerDuration,
    {
      http_request_method: observation.method,
      http_route: observation.route,
      http_response_status_code: status,
    },
    durationS,
    exemplarTraceId,
  );
  if (observation.quiet) return;

  const { ctx, problem } = observation;
  // An open circuit rejects without calling the upstream, so its stack carries no information. One
  // per request would flood the logs for the whole outage.
  const shed = problem?.code === 'CIRCUIT_OPEN';
  const line = {
    request_id: ctx.requestId,
    trace_id: traced?.traceId,
    span_id: traced?.spanId,
    account: ctx.accountId,
    client: ctx.clientId,
    method: request.method,
    route: observation.route,
    path: pathOf(request),
    status,
    duration_ms: Math.round(durationS * 1e6) / 1e3,
    code: problem?.code,
    err: status >= 500 && !shed ? problem?.error : undefined,
    reason: shed ? reasonOf(problem?.error) : undefined,
  };
  if (deps.aborted) deps.logger.info(line, 'request aborted by the client');
  else if (shed) deps.logger.warn(line, 'request rejected by an open circuit');
  else if (status >= 500) deps.logger.error(line, 'request failed');
  else deps.logger.info(line, 'request completed');
}

function endSpan(observation: Observation, status: number): void {
  const { span, problem } = observation;
  if (!span) return;

  span.setAttribute(Attr.httpStatus, status);
  if (status >= 500) {
    span.setAttribute(Attr.errorType, problem?.code ?? String(status));
    span.setStatus({ code: SpanStatusCode.ERROR });
    if (problem?.error instanceof Error) {
      span.recordException({
        name: problem.error.name,
        message: scrubSecrets(problem.error.message),
      });
    }
  }
  span.end();
}

function reasonOf(error: unknown): string | undefined {
  return error instanceof Error ? scrubSecrets(error.message) : undefined;
}
