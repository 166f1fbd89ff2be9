/**
 * Stable machine codes of the problem+json error body. Clients branch on these, so a code
 * is never renamed; new failures get new codes.
 */
export const ErrorCode = {
  ValidationFailed: 'VALIDATION_FAILED',
  Unauthorized: 'UNAUTHORIZED',
  NotFound: 'NOT_FOUND',
  UpstreamTimeout: 'UPSTREAM_TIMEOUT',
  UpstreamUnavailable: 'UPSTREAM_UNAVAILABLE',
  UpstreamError: 'UPSTREAM_ERROR',
  UpstreamBadResponse: 'UPSTREAM_BAD_RESPONSE',
  UpstreamRejected: 'UPSTREAM_REJECTED',
  UpstreamAuthUnreachable: 'UPSTREAM_AUTH_UNREACHABLE',
  UpstreamAuthContractChanged: 'UPSTREAM_AUTH_CONTRACT_CHANGED',
  CircuitOpen: 'CIRCUIT_OPEN',
  RateLimited: 'RATE_LIMITED',
  InsufficientCredits: 'INSUFFICIENT_CREDITS',
  CaptchaRequired: 'CAPTCHA_REQUIRED',
  ContentRejected: 'CONTENT_REJECTED',
  ModelNotAllowed: 'MODEL_NOT_ALLOWED',
  AccountSessionInvalid: 'ACCOUNT_SESSION_INVALID',
  AccountSessionMissing: 'ACCOUNT_SESSION_MISSING',
  AccountRevoked: 'ACCOUNT_REVOKED',
  NoUsableAccount: 'NO_USABLE_ACCOUNT',
  IdempotencyConflict: 'IDEMPOTENCY_CONFLICT',
  IdempotencyKeyReused: 'IDEMPOTENCY_KEY_REUSED',
  PayloadTooLarge: 'PAYLOAD_TOO_LARGE',
  UnsupportedMediaType: 'UNSUPPORTED_MEDIA_TYPE',
  ShuttingDown: 'SHUTTING_DOWN',
  InternalError: 'INTERNAL_ERROR',
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];
