/**
 * How an upstream attempt failed. The retry policies decide on `kind` alone:
 * - `connect`: the connection was never made (refused, DNS, connect timeout); the request
 *   provably did not reach the upstream, so even a submit may be retried.
 * - `reset`: the socket dropped before any response; for a submit this is ambiguous.
 * - `timeout`: no complete response within the attempt's timeout; ambiguous for a submit.
 * - `http`: the upstream returned a non-2xx status.
 * - `bad_response`: 2xx but the body is not what the protocol promises (HTML, empty,
 *   invalid JSON, wrong shape).
 * - `circuit_open`: the breaker rejected the call before anything was sent.
 * - `bulkhead_full`: the account's running-generation limit rejected the call locally.
 */
export type UpstreamFailureKind =
  'connect' | 'reset' | 'timeout' | 'http' | 'bad_response' | 'circuit_open' | 'bulkhead_full';

export type UpstreamHost = 'clerk' | 'studio';

export interface UpstreamErrorOptions {
  kind: UpstreamFailureKind;
  operation: string;
  host: UpstreamHost;
  message: string;
  status?: number;
  /** Parsed `Retry-After`, in milliseconds from when the response arrived. */
  retryAfterMs?: number;
  /** Up to 1 KB of the upstream body, for diagnostics; never HTML sent to clients as-is. */
  bodySnippet?: string;
  /** `host:port` of the URL the attempt was sent to, for error messages that name the host. */
  address?: string;
  /** Parsed JSON body when there was one. */
  body?: unknown;
  /** True when the request body may have reached the upstream (matters for submits). */
  mayHaveReachedUpstream?: boolean;
  cause?: unknown;
}

export class UpstreamError extends Error {
  readonly kind: UpstreamFailureKind;
  readonly operation: string;
  readonly host: UpstreamHost;
  readonly status?: number;
  readonly retryAfterMs?: number;
  readonly bodySnippet?: string;
  readonly address?: string;
  readonly body?: unknown;
  readonly mayHaveReachedUpstream: boolean;

  constructor(options: UpstreamErrorOptions) {
    super(options.message, { cause: options.cause });
    this.name = 'UpstreamError';
    this.kind = options.kind;
    this.operation = options.operation;
    this.host = options.host;
    this.status = options.status;
    this.retryAfterMs = options.retryAfterMs;
    this.bodySnippet = options.bodySnippet;
    this.address = options.address;
    this.body = options.body;
    this.mayHaveReachedUpstream =
      options.mayHaveReachedUpstream ??
      !(
        options.kind === 'connect' ||
        options.kind === 'circuit_open' ||
        options.kind === 'bulkhead_full'
      );
  }

  /** True when the response body is an HTML page, which a JSON API does not send itself. */
  get isHtmlPage(): boolean {
    return /^\s*</.test(this.bodySnippet ?? '');
  }

  /**
   * Failures that show the upstream is unhealthy. A 4xx response does not count unless its body
   * is an HTML page, because that comes from whatever sits in front of the API (a retired host,
   * a proxy, a bot wall), so the host is not serving the API.
   */
  get isServerSideFailure(): boolean {
    switch (this.kind) {
      case 'connect':
      case 'reset':
      case 'timeout':
      case 'bad_response':
        return true;
      case 'http':
        return (this.status ?? 0) >= 500 || ((this.status ?? 0) >= 400 && this.isHtmlPage);
      case 'circuit_open':
      case 'bulkhead_full':
        return false;
      default: {
        const unreachable: never = this.kind;
        return unreachable;
      }
    }
  }
}
