import { AppError } from './app-error';

/** RFC 9457 problem body with the gateway's stable `code` and the request id. */
export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  request_id?: string;
  retry_after?: number;
  upstream_status?: number;
  [extra: string]: unknown;
}

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  402: 'Payment Required',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Payload Too Large',
  414: 'URI Too Long',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

export function problemFrom(error: AppError, requestId?: string): ProblemBody {
  const body: ProblemBody = {
    type: `urn:suno-gateway:problem:${error.code.toLowerCase().replace(/_/g, '-')}`,
    title: TITLES[error.status] ?? 'Error',
    status: error.status,
    detail: error.message,
    code: error.code,
    request_id: requestId,
    ...error.extra,
  };
  if (error.retryAfterS !== undefined) body.retry_after = error.retryAfterS;
  if (error.upstreamStatus !== undefined) body.upstream_status = error.upstreamStatus;

  return body;
}
