import { DEFAULT_ACCOUNT } from '../test/emulator/accounts';

/** `GET /__emulator/stats`, the fields the harness reads. */
export interface EmulatorStats {
  requests: Record<string, number>;
  generations: number;
  clips: number;
  tokens_minted: number;
  faults_hit: number;
}

/** A fault body of `POST /__emulator/faults`. */
export interface FaultSpec {
  match: string;
  action: 'status' | 'delay' | 'hang' | 'reset_before' | 'reset_after';
  rate?: number;
  status?: number;
}

/** Upstream routes the gateway's read calls use; their request counts give upstream calls. */
export const READ_ROUTES = ['feed', 'clip', 'billing'] as const;

/** Calls the emulator's control API and its Clerk and studio routes on loopback. */
export class EmulatorClient {
  constructor(readonly url: string) {}

  stats(): Promise<EmulatorStats> {
    return this.json('GET', '/__emulator/stats');
  }

  config(): Promise<{ generation_s: number; running_job_cap: number; jwt_ttl_s: number }> {
    return this.json('GET', '/__emulator/config');
  }

  patchConfig(patch: Record<string, unknown>): Promise<unknown> {
    return this.json('PATCH', '/__emulator/config', patch);
  }

  setCredits(accountId: string, credits: number): Promise<unknown> {
    return this.json('POST', '/__emulator/accounts', { id: accountId, credits });
  }

  addFault(spec: FaultSpec): Promise<{ id: string }> {
    return this.json('POST', '/__emulator/faults', spec);
  }

  clearFaults(): Promise<unknown> {
    return this.json('DELETE', '/__emulator/faults');
  }

  /** Mints a session JWT of the default account through Clerk, as the gateway does. */
  async mintJwt(): Promise<string> {
    const body = await this.json<{ jwt?: string }>(
      'POST',
      `/v1/client/sessions/${DEFAULT_ACCOUNT.sessionId}/tokens`,
      undefined,
      { cookie: DEFAULT_ACCOUNT.cookie },
    );
    if (typeof body.jwt !== 'string' || body.jwt === '') {
      throw new Error(`the emulator's Clerk token route returned no jwt: ${JSON.stringify(body)}`);
    }

    return body.jwt;
  }

  /** Submits one generate request straight to the studio route; returns the two clip ids. */
  async generate(jwt: string, title: string): Promise<string[]> {
    const body = await this.json<{ clips?: { id: string }[] }>(
      'POST',
      '/api/generate/v2/',
      {
        prompt: '[Verse]\nBenchmark lights on a quiet street',
        tags: 'synthwave',
        title,
        mv: 'chirp-v3-5',
      },
      { authorization: `Bearer ${jwt}` },
    );
    const ids = (body.clips ?? []).map((clip) => clip.id);
    if (ids.length === 0)
      throw new Error(`the emulator's generate route returned no clips: ${JSON.stringify(body)}`);

    return ids;
  }

  private async json<T>(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<T> {
    const response = await fetch(`${this.url}${path}`, {
      method,
      headers: {
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    });
    const text = await response.text();
    if (!response.ok) {
      throw new Error(
        `emulator ${method} ${path} failed with ${response.status}: ${text.slice(0, 300)}`,
      );
    }

    return JSON.parse(text) as T;
  }
}

/** Sum of the request counters of `routes` between two stats snapshots. */
export function requestsBetween(
  before: EmulatorStats,
  after: EmulatorStats,
  routes: readonly string[],
): number {
  return routes.reduce(
    (sum, route) => sum + (after.requests[route] ?? 0) - (before.requests[route] ?? 0),
    0,
  );
}
