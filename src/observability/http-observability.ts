import { randomUUID } from 'node:crypto';
import { Context, ROOT_CONTEXT, Span, SpanKind, SpanStatusCode, context, propagation, trace } from '@opentelemetry/api';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { RequestContext, requestContext } from '../common/request-context';
import { MetricsService } from './metrics.service';
import { Attr } from './span-attributes';
import { tracer } from './tracing';

/** Routes that are scraped or probed every few seconds; logging them would drown real traffic. */
const QUIET_ROUTES = /^\/(health|metrics)/;
const REQUEST_ID_PATTERN = /^[\w.:@-]{1,128}$/;

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
export function registerHttpObservability(fastify: FastifyInstance, logger: Logger, metrics: MetricsService): void {
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
