import { Logger, Provider } from '@nestjs/common';
import Redis from 'ioredis';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';

export const REDIS_CLIENT = Symbol('REDIS_CLIENT');

/** A Redis client when REDIS_URL is set, otherwise null (the in-memory stores are used). */
export const redisProvider: Provider = {
  provide: REDIS_CLIENT,
  inject: [APP_CONFIG],
  useFactory: (config: AppConfig): Redis | null => {
    if (!config.redisUrl) return null;
    const logger = new Logger('Redis');
    const client = new Redis(config.redisUrl, { lazyConnect: false, maxRetriesPerRequest: 2 });
    client.on('error', (err: Error) => logger.warn({ err }, 'Redis connection error'));

    return client;
  },
};
