import type { FastifyInstance } from 'fastify';
import { AppError } from './app-error';
import { ErrorCode } from './error-codes';
import { problemFrom } from './problem';

/** Header in which a caller states how long it will wait for the response, in ms. */
export const REQUEST_TIMEOUT_HEADER = 'x-request-timeout-ms';

/** Largest accepted `X-Request-Timeout-Ms`: 10 minutes, the longest wait budget allowed. */
export const MAX_REQUEST_TIMEOUT_MS = 600_000;

export interface RequestDeadlineOptions {
  /** Deadline of requests that send no `X-Request-Timeout-Ms`, in ms. */
  defaultTimeoutMs: number;
}

export type RequestTimeout = { ok: true; ms: number } | { ok: false; error: AppError };

/**
 * Reads `X-Request-Timeout-Ms`: whole milliseconds from 1 to MAX_REQUEST_TIMEOUT_MS, or the
 * default when the header is absent.
 */
export function parseRequestTimeout(
  header: string | string[] | undefined,
  defaultMs: number,
): RequestTimeout {
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
      extra: {
        errors: [
          {
            field: 'X-Request-Timeout-Ms',
            message: `must be an integer from 1 to ${MAX_REQUEST_TIMEOUT_MS}`,
          },
        ],
      },
    }),
  };
}

/**
 * Sets each request's `deadlineMs` from `X-Request-Timeout-Ms` or the default. Upstream
 * retries, backoff and rate-limit waits end before the deadline, so a caller that states a
 * short one gets the upstream's 429 with `Retry-After` at once instead of a long wait.
 * Register it after the HTTP observability hooks, which create the request context.
 */
export function registerRequestDeadline(
  fastify: FastifyInstance,
  options: RequestDeadlineOptions,
): void {
  fastify.addHook('onRequest', (request, reply, done) => {
    const timeout = parseRequestTimeout(
      request.headers[REQUEST_TIMEOUT_HEADER],
      options.defaultTimeoutMs,
    );
    if (!timeout.ok) {
      // Responding from the hook skips the handler, so the error filter never sees this error.
      void reply
        .status(timeout.error.status)
        .header('content-type', 'application/problem+json')
        .send(problemFrom(timeout.error, request.observation?.ctx.requestId));

      return;
    }

    const ctx = request.observation?.ctx;
    if (ctx) ctx.deadlineMs = Date.now() + timeout.ms;
    done();
  });
}
