import { Injectable } from '@nestjs/common';
import { requestContext } from '../common/request-context';
import { ResilienceService } from '../resilience/resilience.service';
import { Account } from '../session/account';
import { SessionService } from '../session/session.service';
import { UpstreamError } from './upstream-error';
import { OperationClass, UpstreamOperation, UpstreamResponse } from './upstream-request';
import { UpstreamTransport } from './upstream-transport';

export interface StudioCall {
  account: Account;
  operation: UpstreamOperation;
  opClass: OperationClass;
  method: 'GET' | 'POST';
  path: string;
  body?: unknown;
}

/**
 * The one way to call the studio API: resilience policy around each logical call, a session
 * JWT on every attempt, and on a 401 one forced token refresh and one replay.
 */
@Injectable()
export class SunoClient {
  constructor(
    private readonly transport: UpstreamTransport,
    private readonly resilience: ResilienceService,
    private readonly session: SessionService,
  ) {}

  call(call: StudioCall): Promise<UpstreamResponse> {
    const ctx = requestContext.get();
    // Counts every send of this logical call, so a 401 replay gets its own resend count.
    let sends = 0;

    return this.resilience.execute(
      {
        operation: call.operation,
        opClass: call.opClass,
        host: 'studio',
        accountId: call.account.id,
        deadlineMs: ctx?.deadlineMs,
        requestId: ctx?.requestId,
      },
      async () => {
        const jwt = await this.session.getToken(call.account);
        try {
          return await this.send(call, jwt, sends++);
        } catch (err) {
          if (!(err instanceof UpstreamError) || err.kind !== 'http' || err.status !== 401)
            throw err;
          const fresh = await this.session.getToken(call.account, jwt);

          return this.send(call, fresh, sends++);
        }
      },
    );
  }

  private send(call: StudioCall, jwt: string, resendCount: number): Promise<UpstreamResponse> {
    return this.transport.send(
      {
        operation: call.operation,
        opClass: call.opClass,
        host: 'studio',
        accountId: call.account.id,
        method: call.method,
        path: call.path,
        body: call.body,
        headers: { authorization: `Bearer ${jwt}` },
      },
      resendCount,
    );
  }
}
