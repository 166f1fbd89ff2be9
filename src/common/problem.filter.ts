import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { recordProblem, resolveRequestId } from '../observability/http-observability';
import { mapUpstreamError } from '../suno/error-mapping';
import { UpstreamError } from '../suno/upstream-error';
import { AppError } from './app-error';
import { ErrorCode } from './error-codes';
import { problemFrom } from './problem';

const HTTP_CODES: Record<number, ErrorCode> = {
  400: ErrorCode.ValidationFailed,
  401: ErrorCode.Unauthorized,
  404: ErrorCode.NotFound,
  405: ErrorCode.NotFound,
  413: ErrorCode.PayloadTooLarge,
  415: ErrorCode.UnsupportedMediaType,
  422: ErrorCode.ValidationFailed,
  429: ErrorCode.RateLimited,
};

/** Converts anything thrown into an AppError; unknown errors become a 500 that hides internals. */
export function toAppError(exception: unknown): AppError {
  if (exception instanceof AppError) return exception;
  if (exception instanceof UpstreamError) return mapUpstreamError(exception);
  if (exception instanceof HttpException) {
    const status = exception.getStatus();
    // Body-parsing failures reach the filter as HttpExceptions with terse texts, so replace them with what to fix.
    if (
      status === 413 ||
      status === 415 ||
      (status === 400 && /body cannot be empty/i.test(exception.message))
    ) {
      return fromFastifyError(status, '', exception.message);
    }
    const code =
      HTTP_CODES[status] ?? (status >= 500 ? ErrorCode.InternalError : ErrorCode.ValidationFailed);
    const detail = status === 404 ? 'No route matches this method and path.' : exception.message;

    return new AppError({ status, code, detail });
  }
  const fastifyError = exception as { statusCode?: unknown; code?: unknown; message?: unknown };
  if (
    typeof fastifyError?.statusCode === 'number' &&
    fastifyError.statusCode >= 400 &&
    fastifyError.statusCode < 500
  ) {
    return fromFastifyError(
      fastifyError.statusCode,
      String(fastifyError.code ?? ''),
      String(fastifyError.message ?? ''),
    );
  }

  return new AppError({
    status: 500,
    code: ErrorCode.InternalError,
    detail: 'An unexpected error occurred; quote the request id when reporting it.',
    cause: exception,
  });
}

function fromFastifyError(status: number, code: string, message: string): AppError {
  if (code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' || status === 415) {
    return new AppError({
      status: 415,
      code: ErrorCode.UnsupportedMediaType,
      detail: 'The request body must be JSON (Content-Type: application/json).',
    });
  }
  if (code === 'FST_ERR_CTP_BODY_TOO_LARGE' || status === 413) {
    return new AppError({
      status: 413,
      code: ErrorCode.PayloadTooLarge,
      detail: 'The request body is larger than the configured limit.',
    });
  }
  if (code === 'FST_ERR_CTP_EMPTY_JSON_BODY' || /body cannot be empty/i.test(message)) {
    return new AppError({
      status: 400,
      code: ErrorCode.ValidationFailed,
      detail: 'The request body is empty but Content-Type says JSON.',
    });
  }
  if (status === 400 && /JSON/i.test(message)) {
    return new AppError({
      status: 400,
      code: ErrorCode.ValidationFailed,
      detail: 'The request body is not valid JSON.',
    });
  }

  return new AppError({
    status,
    code: HTTP_CODES[status] ?? ErrorCode.ValidationFailed,
    detail: 'The request is invalid.',
  });
}

/** The one place that writes error responses. 5xx are logged once with the error. */
@Catch()
export class ProblemFilter implements ExceptionFilter {
  private readonly logger = new Logger('ProblemFilter');

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const reply = http.getResponse<FastifyReply>();
    const request = http.getRequest<FastifyRequest>();
    sendProblem(reply, request, toAppError(exception), this.logger);
  }
}

export function sendProblem(
  reply: FastifyReply,
  request: FastifyRequest,
  error: AppError,
  logger: Logger,
): void {
  const requestId = request.observation?.ctx.requestId;
  // The request's completion line carries the code and, for 5xx, the error, so it is logged once.
  const recorded = recordProblem(request, {
    code: error.code,
    status: error.status,
    error: error.cause ?? error,
  });
  if (error.status >= 500 && !recorded) {
    logger.error(
      { err: error.cause ?? error, code: error.code, status: error.status },
      `request failed with ${error.code}`,
    );
  }
  if (reply.sent) return;
  if (error.retryAfterS !== undefined) void reply.header('retry-after', String(error.retryAfterS));
  void reply
    .status(error.status)
    .header('content-type', 'application/problem+json')
    .send(problemFrom(error, requestId));
}

/**
 * Sends the problem body for errors that Fastify's router raises before any route or hook
 * runs: a malformed percent-encoding, or a path parameter over `maxParamLength`.
 */
export function sendRoutingProblem(
  error: { code?: string },
  request: FastifyRequest,
  reply: FastifyReply,
): void {
  const requestId = resolveRequestId(request.headers['x-request-id']);
  const tooLong = error.code === 'FST_ERR_MAX_PARAM_LENGTH';
  const problem = new AppError({
    status: tooLong ? 414 : 400,
    code: ErrorCode.ValidationFailed,
    detail: tooLong
      ? 'A path parameter is longer than the gateway accepts.'
      : 'The URL path is not valid; check its percent-encoding.',
  });
  void reply
    .header('x-request-id', requestId)
    .status(problem.status)
    .header('content-type', 'application/problem+json')
    .send(problemFrom(problem, requestId));
}
