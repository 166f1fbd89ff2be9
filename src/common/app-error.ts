import { ErrorCode } from './error-codes';

export interface AppErrorOptions {
  status: number;
  code: ErrorCode;
  detail: string;
  /** Seconds the client should wait before trying again. */
  retryAfterS?: number;
  upstreamStatus?: number;
  /** Extra members of the problem body, e.g. `generation_id` or `errors`. */
  extra?: Record<string, unknown>;
  cause?: unknown;
}

/**
 * A failure with a known client-facing response. The exception filter turns it into the
 * problem+json body; anything that is not an AppError becomes a 500 with hidden internals.
 */
export class AppError extends Error {
  readonly status: number;
  readonly code: ErrorCode;
  readonly retryAfterS?: number;
  readonly upstreamStatus?: number;
  readonly extra?: Record<string, unknown>;

  constructor(options: AppErrorOptions) {
    super(options.detail, { cause: options.cause });
    this.name = 'AppError';
    this.status = options.status;
    this.code = options.code;
    this.retryAfterS = options.retryAfterS;
    this.upstreamStatus = options.upstreamStatus;
    this.extra = options.extra;
  }
}
