import { randomUUID } from 'node:crypto';
import { Context, ROOT_CONTEXT, Span, SpanKind, SpanStatusCode, context, propagation, trace } from '@opentelemetry/api';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { AppError } from '../common/app-error';
import { ErrorCode } from '../common/error-codes';
import { problemFrom } from '../common/problem';
import { RequestContext, requestContext } from '../common/request-context';
import { MetricsService } from './metrics.service';
import { Attr } from './span-attributes';
import { tracer } from './tracing';

/** Routes that are scraped or probed every few seconds; logging them would drown real traffic. */
const QUIET_ROUTES = /^\/(health|metrics)/;
const REQUEST_ID_PATTERN = /^[\w.:@-]{1,128}$/;
/** Header in which a caller states how long it will wait for the answer, in ms. */
export const REQUEST_TIMEOUT_HEADER = 'x-request-timeout-ms';
/** Largest accepted `X-Request-Timeout-Ms`: 10 minutes, the longest wait budget allowed. */
export const MAX_REQUEST_TIMEOUT_MS = 600_000;

export interface HttpObservabilityOptions {
  /**
   * Deadline given to requests without `X-Request-Timeout-Ms`, in ms. Upstream retries and
   * rate-limit waits stop before it; without it they fall back to their own caps.
   */
  defaultRequestTimeoutMs?: number;
}

interface Observation {
  ctx: RequestContext;
  span: Span;
  parent: Context;
  startNs: bigint;
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
 * Fastify hooks that give every request its id, its server span (child of the caller's
 * `traceparent`), its duration histogram sample and one log line. The span and the request
 * context become active in `preHandler`, after the body is parsed, so every log line and
 * upstream span of the handler is correlated.
 */
export function registerHttpObservability(fastify: FastifyInstance, logger: Logger, metrics: MetricsService, options: HttpObservabilityOptions = {}): void {
  fastify.addHook('onRequest', (request, reply, done) => {
    const requestId = resolveRequestId(request.headers['x-request-id']);
    reply.header('x-request-id', requestId);
    const parent = propagation.extract(ROOT_CONTEXT, request.headers);
    const span = tracer().startSpan(
      request.method,
      { kind: SpanKind.SERVER, attributes: { [Attr.httpMethod]: request.method, [Attr.requestId]: requestId } },
      parent,
    );
    request.observation = { ctx: { requestId }, span, parent, startNs: process.hrtime.bigint() };

    const timeout = parseRequestTimeout(request.headers[REQUEST_TIMEOUT_HEADER], options.defaultRequestTimeoutMs);
    if (!timeout.ok) {
      void reply.status(400).header('content-type', 'application/problem+json').send(problemFrom(timeout.error, requestId));

      return;
    }
    if (timeout.ms !== undefined) request.observation.ctx.deadlineMs = Date.now() + timeout.ms;
    done();
  });

  fastify.addHook('preHandler', (request, _reply, done) => {
    const observation = request.observation;
    if (!observation) return done();
    const route = routeTemplate(request);
    observation.ctx.route = route;
    observation.span.updateName(`${request.method} ${route}`);
    observation.span.setAttribute(Attr.httpRoute, route);
    context.with(trace.setSpan(observation.parent, observation.span), () => requestContext.run(observation.ctx, done));
  });

  fastify.addHook('onResponse', (request, reply, done) => {
    finish(request, reply, logger, metrics);
    done();
  });
}

type TimeoutResult = { ok: true; ms: number | undefined } | { ok: false; error: AppError };

/** Reads `X-Request-Timeout-Ms`: whole milliseconds from 1 to MAX_REQUEST_TIMEOUT_MS. */
export function parseRequestTimeout(header: string | string[] | undefined, defaultMs: number | undefined): TimeoutResult {
  if (header === undefined) return { ok: true, ms: defaultMs };
  const text = Array.isArray(header) ? header.join(',') : header.trim();
  const ms = /^\d{1,7}$/.test(text) ? Number(text) : Number.NaN;
  if (ms >= 1 && ms <= MAX_REQUEST_TIMEOUT_MS) return { ok: true, ms };

  return {
    ok: false,
    error: new AppError({
      status: 400,
      code: ErrorCode.ValidationFailed,
      detail: `X-Request-Timeout-Ms must be a whole number of milliseconds from 1 to ${MAX_REQUEST_TIMEOUT_MS}, got ${JSON.stringify(text.slice(0, 32))}.`,
      extra: { errors: [{ field: 'X-Request-Timeout-Ms', message: `must be an integer from 1 to ${MAX_REQUEST_TIMEOUT_MS}` }] },
    }),
  };
}

function routeTemplate(request: FastifyRequest): string {
  return request.routeOptions?.url ?? 'unmatched';
}

function finish(request: FastifyRequest, reply: FastifyReply, logger: Logger, metrics: MetricsService): void {
  const observation = request.observation;
  if (!observation) return;
  const durationS = Number(process.hrtime.bigint() - observation.startNs) / 1e9;
  const status = reply.statusCode;
  const route = observation.ctx.route ?? routeTemplate(request);
  const { span } = observation;
  const spanContext = span.spanContext();
  const traced = spanContext.traceFlags % 2 === 1;

  span.setAttribute(Attr.httpStatus, status);
  if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
  span.end();

  metrics.observe(
    metrics.m.httpServerDuration,
    { http_request_method: request.method, http_route: route, http_response_status_code: status },
    durationS,
    traced ? spanContext.traceId : undefined,
  );

  if (QUIET_ROUTES.test(route)) return;
  const line = {
    request_id: observation.ctx.requestId,
    trace_id: traced ? spanContext.traceId : undefined,
    span_id: traced ? spanContext.spanId : undefined,
    account: observation.ctx.accountId,
    client: observation.ctx.clientId,
    method: request.method,
    route,
    status,
    duration_ms: Math.round(durationS * 1e6) / 1e3,
  };
  if (status >= 500) logger.warn(line, 'request failed');
  else logger.info(line, 'request completed');
}
