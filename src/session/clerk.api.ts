import { Inject, Injectable } from '@nestjs/common';
import { requestContext } from '../common/request-context';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { ResilienceService } from '../resilience/resilience.service';
import { UpstreamError } from '../suno/upstream-error';
import { UpstreamOperation, UpstreamResponse } from '../suno/upstream-request';
import { UpstreamTransport } from '../suno/upstream-transport';
import { Account } from './account';

export interface ClerkClientInfo {
  /** `last_active_session_id`, or undefined when the cookie is signed out or invalid. */
  sessionId?: string;
}

/** Clerk's two calls: read the client (to find the session) and mint a session JWT. */
@Injectable()
export class ClerkApi {
  constructor(
    private readonly transport: UpstreamTransport,
    private readonly resilience: ResilienceService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async getClient(account: Account): Promise<ClerkClientInfo> {
    const response = await this.call(account, 'clerk_client', 'GET', '/v1/client');
    const payload = (
      response.body as { response?: { last_active_session_id?: unknown } | null } | null
    )?.response;
    const sessionId = payload?.last_active_session_id;

    return {
      sessionId: typeof sessionId === 'string' && sessionId.length > 0 ? sessionId : undefined,
    };
  }

  /** Mints a JWT; a 200 without a `jwt` string is a bad response, never an empty token. */
  async mintToken(account: Account, sessionId: string): Promise<string> {
    const path = `/v1/client/sessions/${encodeURIComponent(sessionId)}/tokens`;
    const response = await this.call(account, 'clerk_token', 'POST', path);
    const jwt = (response.body as { jwt?: unknown } | null)?.jwt;
    if (typeof jwt !== 'string' || jwt.split('.').length !== 3) {
      throw new UpstreamError({
        kind: 'bad_response',
        operation: 'clerk_token',
        host: 'clerk',
        status: response.status,
        message: 'clerk_token returned no jwt',
        body: response.body,
      });
    }

    return jwt;
  }

  private query(): string {
    const params = new URLSearchParams({
      _is_native: 'true',
      _clerk_js_version: this.config.upstream.clerkJsVersion,
      __clerk_api_version: this.config.upstream.clerkApiVersion,
    });

    return params.toString();
  }

  private async call(
    account: Account,
    operation: UpstreamOperation,
    method: 'GET' | 'POST',
    path: string,
  ): Promise<UpstreamResponse> {
    const response = await this.resilience.execute(
      {
        operation,
        opClass: 'auth',
        host: 'clerk',
        accountId: account.id,
        requestId: requestContext.get()?.requestId,
      },
      ({ attempt }) =>
        this.transport.send(
          {
            operation,
            opClass: 'auth',
            host: 'clerk',
            accountId: account.id,
            method,
            path: `${path}?${this.query()}`,
            headers: { cookie: account.jar.header(), authorization: account.jar.clientToken },
            body: method === 'POST' ? {} : undefined,
          },
          attempt,
        ),
    );
    account.jar.apply(response.setCookie);

    return response;
  }
}
