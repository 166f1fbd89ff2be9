import { CanActivate, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { AppError } from './app-error';
import { ErrorCode } from './error-codes';
import { IS_PUBLIC } from './public.decorator';

interface HashedKey {
  id: string;
  digest: Buffer;
}

/**
 * Checks `Authorization: Bearer <key>` against API_KEYS. Keys are compared as SHA-256
 * digests with timingSafeEqual, so neither the length nor the content leaks through timing.
 */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  private readonly keys: HashedKey[];

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly reflector: Reflector,
  ) {
    this.keys = config.auth.apiKeys.map((k) => ({ id: k.id, digest: digest(k.key) }));
  }

  canActivate(context: ExecutionContext): boolean {
    const isPublic = this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (isPublic || this.config.auth.disabled) return true;

    const request = context.switchToHttp().getRequest<FastifyRequest>();
    const presented = bearerToken(request.headers.authorization);
    if (!presented) {
      throw new AppError({
        status: 401,
        code: ErrorCode.Unauthorized,
        detail: 'Missing API key; send Authorization: Bearer <key>.',
      });
    }
    const presentedDigest = digest(presented);
    let match: HashedKey | undefined;
    for (const key of this.keys) {
      // No early exit: every key is compared so the position of a match does not leak.
      if (timingSafeEqual(key.digest, presentedDigest)) match = key;
    }
    if (!match) {
      throw new AppError({ status: 401, code: ErrorCode.Unauthorized, detail: 'Invalid API key.' });
    }
    if (request.observation) request.observation.ctx.clientId = match.id;

    return true;
  }
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

function bearerToken(header: string | undefined): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');

  return match?.[1];
}
