import { SetMetadata } from '@nestjs/common';

export const IS_PUBLIC = 'suno-gateway:public';

/** Marks a route that needs no API key (probes, metrics, docs). */
export const Public = () => SetMetadata(IS_PUBLIC, true);
