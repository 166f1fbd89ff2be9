import { CallHandler, ExecutionContext, Inject, Injectable, NestInterceptor } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { createHash } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Observable, from, lastValueFrom } from 'rxjs';
import { AppConfig } from '../../config/app-config';
import { APP_CONFIG } from '../../config/config.module';
import { AppError } from '../app-error';
import { ErrorCode } from '../error-codes';
import { problemFrom } from '../problem';
import { toAppError } from '../problem.filter';
import { IdempotencyStore } from './idempotency.store';
import { IDEMPOTENT } from './idempotent.decorator';

const KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;

/**
 * Makes creating POSTs safe to repeat: the same key and body within the TTL return the stored
 * response with `Idempotent-Replayed: true`; the same key with another body is 422; a request
 * while the first is still running is 409.
 */
@Injectable()
export class IdempotencyInterceptor implements NestInterceptor {
  constructor(
    private readonly reflector: Reflector,
    private readonly store: IdempotencyStore,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const enabled = this.reflector.get<boolean>(IDEMPOTENT, context.getHandler());
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    const header = request.headers['idempotency-key'];
    if (!enabled || header === undefined) return next.handle();

    return from(this.run(context, next, String(header)));
  }

  private async run(
    context: ExecutionContext,
    next: CallHandler,
    rawKey: string,
  ): Promise<unknown> {
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    const reply = context.switchToHttp().getResponse<FastifyReply>();
    if (!KEY_PATTERN.test(rawKey)) {
      throw new AppError({
        status: 400,
        code: ErrorCode.ValidationFailed,
        detail: 'Idempotency-Key must be 1 to 255 visible ASCII characters.',
      });
    }
    const client = request.observation?.ctx.clientId ?? 'anonymous';
    const key = `${client}:${rawKey}`;
    const fingerprint = createHash('sha256')
      .update(
        JSON.stringify([
          request.method,
          request.routeOptions?.url,
          request.params,
          request.query,
          request.body,
        ]),
      )
      .digest('hex');
    const ttl = this.config.idempotency.ttlMs;
    const begun = await this.store.begin(key, fingerprint, ttl);

    switch (begun.kind) {
      case 'mismatch':
        throw new AppError({
          status: 422,
          code: ErrorCode.IdempotencyKeyReused,
          detail: 'This Idempotency-Key was already used with a different request body.',
        });
      case 'in_progress':
        throw new AppError({
          status: 409,
          code: ErrorCode.IdempotencyConflict,
          detail: 'A request with this Idempotency-Key is still running; retry after it finishes.',
          retryAfterS: 1,
        });
      case 'replay':
        void reply.header('idempotent-replayed', 'true');
        if (begun.response.contentType)
          void reply.header('content-type', begun.response.contentType);
        reply.status(begun.response.status);

        return begun.response.body;
      case 'started':
        return this.execute(next, reply, key, ttl, request);
      default: {
        const unknownKind: never = begun;
        throw new Error(`unknown idempotency result ${JSON.stringify(unknownKind)}`);
      }
    }
  }

  private async execute(
    next: CallHandler,
    reply: FastifyReply,
    key: string,
    ttl: number,
    request: FastifyRequest,
  ): Promise<unknown> {
    try {
      const body = await lastValueFrom(next.handle(), { defaultValue: undefined });
      await this.store.complete(key, { status: reply.statusCode, body }, ttl);

      return body;
    } catch (err) {
      const error = toAppError(err);
      // A response that names a generation may have spent credits, so replay it and never resubmit.
      if (error.extra?.generation_id) {
        await this.store.complete(
          key,
          {
            status: error.status,
            body: problemFrom(error, request.observation?.ctx.requestId),
            contentType: 'application/problem+json',
          },
          ttl,
        );
      } else {
        await this.store.abandon(key);
      }
      throw error;
    }
  }
}
