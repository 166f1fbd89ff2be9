import { HttpService } from '@nestjs/axios';
import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { AxiosError, AxiosProxyConfig, AxiosResponse } from 'axios';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { MetricsService } from '../observability/metrics.service';
import { Attr } from '../observability/span-attributes';
import { tracer } from '../observability/tracing';
import { parseRetryAfter } from '../resilience/retry-after';
import { CONNECT_TIMEOUT_CODE, UpstreamAgents, createUpstreamAgents } from './http-agents';
import { UpstreamError, UpstreamFailureKind } from './upstream-error';
import { UpstreamRequest, UpstreamResponse } from './upstream-request';

const CONNECT_CODES = new Set([
  CONNECT_TIMEOUT_CODE,
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ERR_PROXY_CONNECTION',
]);
const TIMEOUT_CODES = new Set(['ECONNABORTED', 'ETIMEDOUT', 'ERR_CANCELED']);
const SNIPPET_BYTES = 1024;

/**
 * Sends exactly one HTTP attempt upstream over the shared keep-alive agents, with its client
 * span and duration sample. It classifies every failure as an UpstreamError and leaves
 * retries to the caller.
 */
@Injectable()
export class UpstreamTransport implements OnApplicationShutdown {
  private readonly agents: UpstreamAgents;
  private readonly proxy?: AxiosProxyConfig;

  constructor(
    private readonly http: HttpService,
    private readonly metrics: MetricsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    this.agents = createUpstreamAgents(config.upstream);
    this.proxy = config.upstream.proxyUrl ? forwardProxy(config.upstream.proxyUrl) : undefined;
  }

  onApplicationShutdown(): void {
    this.agents.destroy();
  }

  timeoutFor(request: UpstreamRequest): number {
    const { upstream } = this.config;
    switch (request.opClass) {
      case 'auth':
        return upstream.authTimeoutMs;
      case 'read':
        return upstream.readTimeoutMs;
      case 'submit':
        return upstream.submitTimeoutMs;
      default: {
        const unknownClass: never = request.opClass;
        throw new Error(`unknown operation class ${String(unknownClass)}`);
      }
    }
  }

  async send(request: UpstreamRequest, resendCount: number): Promise<UpstreamResponse> {
    const baseUrl =
      request.host === 'clerk' ? this.config.upstream.authUrl : this.config.upstream.baseUrl;
    const span = tracer().startSpan(`${request.method} ${request.operation}`, {
      kind: SpanKind.CLIENT,
      attributes: {
        [Attr.httpMethod]: request.method,
        [Attr.urlPath]: request.path.split('?')[0],
        [Attr.serverAddress]: new URL(baseUrl).hostname,
        [Attr.resendCount]: resendCount,
        [Attr.operation]: request.operation,
        [Attr.operationClass]: request.opClass,
        [Attr.account]: request.accountId,
        [Attr.upstream]: request.host,
      },
    });
    const started = process.hrtime.bigint();
    let outcome = 'success';
    try {
      const response = await this.exchange(baseUrl, request);
      span.setAttribute(Attr.httpStatus, response.status);

      return response;
    } catch (err) {
      const error = err as UpstreamError;
      outcome = outcomeOf(error);
      if (error.status) span.setAttribute(Attr.httpStatus, error.status);
      span.setAttribute(Attr.errorType, error.status ? String(error.status) : error.kind);
      span.setStatus({ code: SpanStatusCode.ERROR, message: error.message });
      throw err;
    } finally {
      span.setAttribute(Attr.outcome, outcome);
      span.end();
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const spanContext = span.spanContext();
      this.metrics.observe(
        this.metrics.m.upstreamDuration,
        { operation: request.operation, outcome },
        seconds,
        spanContext.traceFlags % 2 === 1 ? spanContext.traceId : undefined,
      );
    }
  }

  /** Returns the proxy setting for a request to `baseUrl`, or false to connect directly. */
  private proxyFor(baseUrl: string): AxiosProxyConfig | false {
    // TODO: tunnel https upstream URLs through the proxy with CONNECT; until then loadConfig
    // rejects UPSTREAM_PROXY_URL unless both upstream URLs use http.
    return this.proxy && baseUrl.startsWith('http:') ? this.proxy : false;
  }

  private async exchange(baseUrl: string, request: UpstreamRequest): Promise<UpstreamResponse> {
    let response: AxiosResponse<string>;
    try {
      response = await this.http.axiosRef.request<string>({
        method: request.method,
        url: `${baseUrl}${request.path}`,
        data: request.body === undefined ? undefined : JSON.stringify(request.body),
        headers: {
          'user-agent': this.config.upstream.userAgent,
          accept: 'application/json',
          ...(request.body === undefined ? {} : { 'content-type': 'application/json' }),
          ...request.headers,
        },
        timeout: this.timeoutFor(request),
        httpAgent: this.agents.http,
        httpsAgent: this.agents.https,
        proxy: this.proxyFor(baseUrl),
        maxRedirects: 0,
        responseType: 'text',
        transformResponse: (data: unknown) => data,
        validateStatus: () => true,
        decompress: true,
      });
    } catch (err) {
      throw classifyNetworkError(err as AxiosError, request);
    }

    return interpret(response, request, new URL(baseUrl).host);
  }
}

/**
 * Builds axios's forward-proxy setting from `UPSTREAM_PROXY_URL`. axios then sends each request
 * to the proxy with the absolute URL, over the keep-alive agent, so the connect timeout covers
 * the connection to the proxy.
 */
function forwardProxy(proxyUrl: string): AxiosProxyConfig {
  const url = new URL(proxyUrl);
  const protocol = url.protocol.replace(/:$/, '');
  const auth = url.username
    ? { username: decodeURIComponent(url.username), password: decodeURIComponent(url.password) }
    : undefined;

  return {
    protocol,
    host: url.hostname.replace(/^\[|\]$/g, ''),
    port: Number(url.port) || (protocol === 'https' ? 443 : 80),
    auth,
  };
}

function outcomeOf(error: UpstreamError): string {
  if (error.kind !== 'http') return error.kind;

  return (error.status ?? 0) >= 500 ? 'server_error' : 'client_error';
}

function classifyNetworkError(err: AxiosError, request: UpstreamRequest): UpstreamError {
  const code = err.code ?? (err.cause as { code?: string } | undefined)?.code ?? '';
  let kind: UpstreamFailureKind = 'reset';
  if (CONNECT_CODES.has(code)) kind = 'connect';
  else if (TIMEOUT_CODES.has(code)) kind = 'timeout';

  return new UpstreamError({
    kind,
    operation: request.operation,
    host: request.host,
    message: `${request.operation} ${kind === 'timeout' ? 'timed out' : `failed with ${code || 'a network error'}`}`,
    cause: err,
  });
}

function headerValue(value: unknown): string | undefined {
  if (Array.isArray(value)) return value[0] as string | undefined;

  return typeof value === 'string' ? value : undefined;
}

function interpret(
  response: AxiosResponse<string>,
  request: UpstreamRequest,
  address: string,
): UpstreamResponse {
  const text = typeof response.data === 'string' ? response.data : '';
  const contentType = headerValue(response.headers['content-type']) ?? '';
  const parsed = parseJson(text, contentType);
  const base = {
    operation: request.operation,
    host: request.host,
    address,
    status: response.status,
    bodySnippet: text.slice(0, SNIPPET_BYTES),
  };

  if (response.status < 200 || response.status >= 300) {
    throw new UpstreamError({
      ...base,
      kind: 'http',
      message: `${request.operation} returned HTTP ${response.status}`,
      body: parsed.ok ? parsed.value : undefined,
      retryAfterMs: parseRetryAfter(headerValue(response.headers['retry-after']), Date.now()),
    });
  }
  if (!parsed.ok) {
    throw new UpstreamError({
      ...base,
      kind: 'bad_response',
      message: `${request.operation} returned HTTP ${response.status} with ${parsed.reason}`,
    });
  }
  const setCookie = response.headers['set-cookie'];

  return {
    status: response.status,
    headers: response.headers as Record<string, string | string[] | undefined>,
    body: parsed.value,
    setCookie: Array.isArray(setCookie) ? setCookie : [],
  };
}

type JsonResult = { ok: true; value: unknown } | { ok: false; reason: string };

function parseJson(text: string, contentType: string): JsonResult {
  if (text.trim().length === 0) return { ok: false, reason: 'an empty body' };
  if (/html/i.test(contentType) || /^\s*</.test(text)) return { ok: false, reason: 'an HTML page' };
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false, reason: 'invalid JSON' };
  }
}
