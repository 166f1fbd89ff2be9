import { SetMetadata } from '@nestjs/common';

export const IDEMPOTENT = 'suno-gateway:idempotent';

/** Marks a POST route that honours the Idempotency-Key header. */
export const Idempotent = () => SetMetadata(IDEMPOTENT, true);
