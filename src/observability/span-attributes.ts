/** Span attribute keys used by the gateway, in one place. */
export const Attr = {
  httpMethod: 'http.request.method',
  httpRoute: 'http.route',
  httpStatus: 'http.response.status_code',
  resendCount: 'http.request.resend_count',
  urlPath: 'url.path',
  serverAddress: 'server.address',
  requestId: 'suno_gateway.request_id',
  operation: 'suno.operation',
  operationClass: 'suno.operation_class',
  account: 'suno.account',
  upstream: 'suno.upstream',
  outcome: 'suno.outcome',
  generationId: 'suno.generation_id',
  errorType: 'error.type',
} as const;
