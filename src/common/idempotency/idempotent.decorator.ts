import { SetMetadata, UseInterceptors, applyDecorators } from '@nestjs/common';
import { IdempotencyInterceptor } from './idempotency.interceptor';

export const IDEMPOTENT = 'suno-gateway:idempotent';

/**
 * Marks a POST route that honours the Idempotency-Key header. The interceptor is attached
 * here rather than globally, so read routes do not pay for it on every request.
 */
export const Idempotent = () =>
  applyDecorators(SetMetadata(IDEMPOTENT, true), UseInterceptors(IdempotencyInterceptor));
