import { UpstreamError, UpstreamHost } from '../suno/upstream-error';
import { sleep } from './sleep';

/** A caller waiting at the gate; `operation` only labels the rejection error. */
export interface GateRequest {
  accountId: string;
  host: UpstreamHost;
  operation: string;
  /** Epoch ms by which the caller must be done; without it the caller waits out any block. */
  deadlineMs?: number;
}

export interface RateLimitGateOptions {
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

/**
 * Per (account, host) "not before" time, set when the upstream responds 429 or 503 with
 * `Retry-After`. Every attempt passes the gate first, so no call for that account reaches
 * the host before the upstream's wait is over.
 */
export class RateLimitGate {
  // TODO: keep blocks in Redis when REDIS_URL is set, so that every replica obeys them.
  private readonly blockedUntilMs = new Map<string, number>();
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(options: RateLimitGateOptions = {}) {
    this.now = options.now ?? (() => Date.now());
    this.sleep = options.sleep ?? sleep;
  }

  /** Blocks calls until `untilMs` (epoch ms). An earlier time never shortens a longer block. */
  block(accountId: string, host: UpstreamHost, untilMs: number): void {
    const current = this.blockedUntilMs.get(key(accountId, host)) ?? 0;
    this.blockedUntilMs.set(key(accountId, host), Math.max(current, untilMs));
  }

  /** Returns the epoch ms the block ends, or undefined when calls may go now. */
  blockedUntil(accountId: string, host: UpstreamHost): number | undefined {
    const untilMs = this.blockedUntilMs.get(key(accountId, host));
    if (untilMs === undefined) {
      return undefined;
    }
    if (untilMs <= this.now()) {
      this.blockedUntilMs.delete(key(accountId, host));
      return undefined;
    }

    return untilMs;
  }

  /**
   * Resolves when the account may call the host: at once when not blocked, else after the
   * block ends (re-checked, because another response may extend it meanwhile).
   *
   * @throws UpstreamError of kind `http`, status 429, with `retryAfterMs` set to the time
   *   left, when the block outlasts `deadlineMs`; nothing was sent upstream.
   */
  async waitOrReject(request: GateRequest): Promise<void> {
    for (;;) {
      const untilMs = this.blockedUntil(request.accountId, request.host);
      if (untilMs === undefined) {
        return;
      }

      if (request.deadlineMs !== undefined && untilMs > request.deadlineMs) {
        throw rateLimited(request, untilMs - this.now());
      }

      await this.sleep(untilMs - this.now());
    }
  }
}

function key(accountId: string, host: UpstreamHost): string {
  return `${host}:${accountId}`;
}

function rateLimited(request: GateRequest, retryAfterMs: number): UpstreamError {
  return new UpstreamError({
    kind: 'http',
    status: 429,
    operation: request.operation,
    host: request.host,
    message:
      `Account ${request.accountId} is rate-limited on ${request.host} ` +
      `for ${retryAfterMs} ms more, which passes the request deadline`,
    retryAfterMs,
    mayHaveReachedUpstream: false,
  });
}
