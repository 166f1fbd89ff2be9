import { AppError } from '../common/app-error';
import { ErrorCode } from '../common/error-codes';
import { scrubSecrets } from '../observability/redaction';
import { UpstreamError } from './upstream-error';

const MAX_SNIPPET = 1024;

/** Reads a human message from a FastAPI `{detail}`, a Clerk `{errors}` or a `{message}` body. */
export function upstreamMessage(body: unknown): string | undefined {
  if (!body || typeof body !== 'object') return undefined;
  const record = body as Record<string, unknown>;
  if (typeof record.detail === 'string') return record.detail;
  if (Array.isArray(record.detail)) {
    return record.detail
      .map(
        (d: { loc?: unknown; msg?: unknown }) =>
          `${Array.isArray(d?.loc) ? d.loc.join('.') : 'body'}: ${String(d?.msg ?? 'invalid')}`,
      )
      .join('; ');
  }
  if (Array.isArray(record.errors) && record.errors.length > 0) {
    const first = record.errors[0] as { long_message?: unknown; message?: unknown; code?: unknown };
    return String(first.long_message ?? first.message ?? first.code ?? 'error');
  }
  if (typeof record.message === 'string') return record.message;

  return undefined;
}

/** Clerk error code of a `{errors:[{code}]}` body. */
export function clerkErrorCode(body: unknown): string | undefined {
  const errors = (body as { errors?: Array<{ code?: unknown }> } | undefined)?.errors;
  const code = Array.isArray(errors) ? errors[0]?.code : undefined;

  return typeof code === 'string' ? code : undefined;
}

function retryAfterS(err: UpstreamError, fallbackS?: number): number | undefined {
  if (err.retryAfterMs !== undefined) return Math.max(1, Math.ceil(err.retryAfterMs / 1000));

  return fallbackS;
}

function describeBody(err: UpstreamError): string {
  const message = upstreamMessage(err.body);
  if (message) return scrubSecrets(message);
  if (!err.bodySnippet) return 'an empty body';
  if (/^\s*</.test(err.bodySnippet)) return 'an HTML page';

  return `a non-JSON body`;
}

/** Maps an upstream failure to the client-facing error. The upstream's HTML never passes. */
export function mapUpstreamError(err: UpstreamError): AppError {
  const base = { upstreamStatus: err.status, cause: err, extra: snippet(err) };
  switch (err.kind) {
    case 'circuit_open':
      return new AppError({
        ...base,
        status: 503,
        code: ErrorCode.CircuitOpen,
        detail: `The ${err.host} upstream is failing; calls are paused until the circuit breaker's next probe.`,
        retryAfterS: retryAfterS(err, 5),
      });
    case 'bulkhead_full':
      return new AppError({
        ...base,
        status: 429,
        code: ErrorCode.RateLimited,
        detail: 'Too many generations are running on the account; retry after the given delay.',
        retryAfterS: retryAfterS(err, 10),
      });
    case 'connect':
      return new AppError({
        ...base,
        status: 503,
        code: ErrorCode.UpstreamUnavailable,
        detail: `The ${err.host} upstream could not be reached.`,
        retryAfterS: 5,
      });
    case 'reset':
      return new AppError({
        ...base,
        status: 502,
        code: ErrorCode.UpstreamError,
        detail: `The ${err.host} upstream closed the connection without answering.`,
      });
    case 'timeout':
      return new AppError({
        ...base,
        status: 504,
        code: ErrorCode.UpstreamTimeout,
        detail: `The ${err.host} upstream did not answer ${err.operation} in time.`,
      });
    case 'bad_response':
      return new AppError({
        ...base,
        status: 502,
        code: ErrorCode.UpstreamBadResponse,
        detail: `The ${err.host} upstream answered ${err.operation} with ${describeBody(err)} instead of the expected JSON.`,
      });
    case 'http':
      return err.host === 'clerk' ? mapClerkStatus(err) : mapStudioStatus(err);
    default: {
      const unreachable: never = err.kind;
      throw new Error(`unhandled upstream failure kind ${String(unreachable)}`);
    }
  }
}

function snippet(err: UpstreamError): Record<string, unknown> | undefined {
  if (!err.bodySnippet || /^\s*</.test(err.bodySnippet)) return undefined;

  return { upstream_body: scrubSecrets(err.bodySnippet.slice(0, MAX_SNIPPET)) };
}

function mapClerkStatus(err: UpstreamError): AppError {
  const status = err.status ?? 0;
  const code = clerkErrorCode(err.body);
  const base = { upstreamStatus: status, cause: err };
  if (status === 429) {
    return new AppError({
      ...base,
      status: 429,
      code: ErrorCode.RateLimited,
      detail: 'The auth upstream is rate limiting the account.',
      retryAfterS: retryAfterS(err, 30),
    });
  }
  if (err.isHtmlPage && status < 500) {
    return new AppError({
      ...base,
      status: 502,
      code: ErrorCode.UpstreamAuthUnreachable,
      detail: `The auth upstream${at(err)} returned ${status} with an HTML page instead of a Clerk response; check SUNO_AUTH_URL.`,
    });
  }
  if (code === 'api_version_invalid' || status === 400) {
    return new AppError({
      ...base,
      status: 502,
      code: ErrorCode.UpstreamAuthContractChanged,
      detail: `The auth upstream rejected the request format (${code ?? `status ${status}`}); check SUNO_AUTH_URL and the pinned Clerk versions.`,
    });
  }
  if (status === 401 || status === 403) {
    return new AppError({
      ...base,
      status: 503,
      code: ErrorCode.AccountSessionInvalid,
      detail: `The auth upstream rejected the account's session (${code ?? `status ${status}`}).`,
      retryAfterS: 30,
    });
  }

  return new AppError({
    ...base,
    status: 502,
    code: ErrorCode.UpstreamAuthUnreachable,
    detail: `The auth upstream${at(err)} answered ${status} with ${describeBody(err)}.`,
  });
}

/** Names the host an attempt went to, such as " at auth.suno.com", when the transport recorded it. */
function at(err: UpstreamError): string {
  return err.address ? ` at ${err.address}` : '';
}

function mapStudioStatus(err: UpstreamError): AppError {
  const status = err.status ?? 0;
  const message = upstreamMessage(err.body);
  const base = { upstreamStatus: status, cause: err, extra: snippet(err) };
  const detail = (fallback: string) => (message ? scrubSecrets(message) : fallback);

  if (status === 400 && message === 'Invalid request.' && err.operation === 'generate') {
    return new AppError({
      ...base,
      status: 403,
      code: ErrorCode.ModelNotAllowed,
      detail:
        "The upstream rejected the request as invalid; the model is most likely not available on the account's plan.",
    });
  }
  if (status === 400)
    return new AppError({
      ...base,
      status: 400,
      code: ErrorCode.UpstreamRejected,
      detail: detail('The upstream rejected the request.'),
    });
  if (status === 401 || status === 403) {
    return new AppError({
      ...base,
      status: 503,
      code: ErrorCode.AccountSessionInvalid,
      detail: "The upstream rejected the account's session token even after a refresh.",
      retryAfterS: 30,
    });
  }
  if (status === 402)
    return new AppError({
      ...base,
      status: 402,
      code: ErrorCode.InsufficientCredits,
      detail: detail('The account has no credits left.'),
    });
  if (status === 404)
    return new AppError({
      ...base,
      status: 404,
      code: ErrorCode.NotFound,
      detail: detail('Not found upstream.'),
    });
  if (status === 422 && /token validation failed/i.test(message ?? '')) {
    return new AppError({
      ...base,
      status: 503,
      code: ErrorCode.CaptchaRequired,
      detail:
        'The upstream demands a captcha for this account; generate one song on suno.com in a browser, or pass a solved captcha token.',
      retryAfterS: 300,
    });
  }
  if (status === 422)
    return new AppError({
      ...base,
      status: 502,
      code: ErrorCode.UpstreamRejected,
      detail: `The upstream rejected the request body: ${detail('validation failed')}.`,
    });
  if (status === 429)
    return new AppError({
      ...base,
      status: 429,
      code: ErrorCode.RateLimited,
      detail: detail('The upstream is rate limiting the account.'),
      retryAfterS: retryAfterS(err, 30),
    });
  if (status === 503)
    return new AppError({
      ...base,
      status: 503,
      code: ErrorCode.UpstreamUnavailable,
      detail: `The upstream is unavailable (it answered 503 with ${describeBody(err)}).`,
      retryAfterS: retryAfterS(err, 5),
    });

  return new AppError({
    ...base,
    status: 502,
    code: ErrorCode.UpstreamError,
    detail: `The upstream answered ${status} with ${describeBody(err)}.`,
  });
}
