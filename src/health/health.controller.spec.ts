import { APP_GUARD } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { TerminusModule } from '@nestjs/terminus';
import { Test } from '@nestjs/testing';
import { ApiKeyGuard } from '../common/api-key.guard';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { loadConfig } from '../config/load-config';
import { Account } from '../session/account';
import { AccountsService } from '../session/accounts.service';
import { SessionService } from '../session/session.service';
import { HealthController } from './health.controller';
import { HealthIndicators } from './health.indicators';
import { REDIS_CLIENT } from './redis.provider';
import { ShutdownState } from './shutdown-state';

const CLIENT_TOKEN = 'eyJhbGciOiJSUzI1NiJ9.eyJpZCI6ImNsaWVudF9TRUNSRVQifQ.Q0xJRU5ULVNFQ1JFVA';
const COOKIE = `__client=${CLIENT_TOKEN}; __client_uat=1733300000; ajs_anonymous_id=COOKIE-SECRET-MARKER`;
const JWT = 'eyJhbGciOiJIUzI1NiJ9.eyJzaWQiOiJzZXNzX1NFQ1JFVCJ9.SldULVNFQ1JFVC1NQVJLRVI';
const SESSION_ID = 'sess_SECRETSESSION1';
const SECRETS = [CLIENT_TOKEN, 'COOKIE-SECRET-MARKER', JWT, SESSION_ID];

interface ProbeOptions {
  env?: Record<string, string>;
  /** Mutates the account before the app starts. */
  account?: (account: Account) => void;
  firstLogin?: Promise<void>;
  redis?: { ping(): Promise<string> } | null;
}

interface Probes {
  app: NestFastifyApplication;
  account: Account;
  shutdown: ShutdownState;
  get(
    path: string,
  ): Promise<{ status: number; contentType: string; text: string; body: HealthBody }>;
}

interface HealthBody {
  status: string;
  details: Record<string, Record<string, unknown> & { status: string; reason?: string }>;
}

function signedIn(account: Account): void {
  account.sessionId = SESSION_ID;
  account.token = { jwt: JWT, obtainedAtMs: Date.now(), expiresAtMs: Date.now() + 60_000 };
  account.state = 'active';
  account.stateReason = 'session token refreshed';
  account.lastRefreshAt = new Date();
}

/** Starts the probes with the real API-key guard, terminus and indicators, and fake accounts and session. */
async function startProbes(options: ProbeOptions = {}): Promise<Probes> {
  const config: AppConfig = loadConfig({
    API_KEYS: 'ops:probe-key-0123456789',
    SUNO_COOKIE: COOKIE,
    ...options.env,
  });
  const account = new Account(config.accounts[0]);
  (options.account ?? signedIn)(account);
  const accounts: Pick<AccountsService, 'all'> = { all: () => [account] };
  const session: Pick<SessionService, 'firstLogin'> = {
    firstLogin: options.firstLogin ?? Promise.resolve(),
  };
  const moduleRef = await Test.createTestingModule({
    imports: [TerminusModule.forRoot({ logger: false })],
    controllers: [HealthController],
    providers: [
      HealthIndicators,
      ShutdownState,
      { provide: AccountsService, useValue: accounts },
      { provide: SessionService, useValue: session },
      { provide: APP_CONFIG, useValue: config },
      { provide: REDIS_CLIENT, useValue: options.redis ?? null },
      { provide: APP_GUARD, useClass: ApiKeyGuard },
    ],
  }).compile();
  const app = moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter(), {
    logger: false,
  });
  await app.init();
  await app.getHttpAdapter().getInstance().ready();
  // Lets the indicators see a settled first login before the first request.
  await new Promise((resolve) => setImmediate(resolve));

  return {
    app,
    account,
    shutdown: app.get(ShutdownState),
    get: async (path) => {
      const response = await app.inject({ method: 'GET', url: path });

      return {
        status: response.statusCode,
        contentType: String(response.headers['content-type']),
        text: response.body,
        body: response.json<HealthBody>(),
      };
    },
  };
}

describe('health probes', () => {
  let probes: Probes | undefined;

  afterEach(async () => {
    await probes?.app.close();
    probes = undefined;
  });

  it('live reports heap and event loop without an API key', async () => {
    probes = await startProbes();

    const response = await probes.get('/health/live');

    expect(response.status).toBe(200);
    expect(response.body.details.process.status).toBe('up');
    expect(response.body.details.process.heap_used_mb).toEqual(expect.any(Number));
    expect(response.body.details.process.event_loop_delay_max_ms).toEqual(expect.any(Number));
    expect(response.body.details.process.event_loop_delay_limit_ms).toBe(2_000);
  });

  it('live fails above the heap limit', async () => {
    probes = await startProbes({ env: { HEALTH_MAX_HEAP_MB: '16' } });

    const response = await probes.get('/health/live');

    expect(response.status).toBe(503);
    expect(response.body.status).toBe('error');
    expect(response.body.details.process.status).toBe('down');
    expect(response.body.details.process.heap_limit_mb).toBe(16);
    expect(response.body.details.process.reason).toMatch(/heap uses \d+ MB/);
  });

  it('live fails after an event-loop stall', async () => {
    probes = await startProbes({ env: { HEALTH_MAX_EVENT_LOOP_DELAY_MS: '50' } });
    await probes.get('/health/live');

    const blockedUntil = Date.now() + 200;
    while (Date.now() < blockedUntil) {
      // Busy-waits so that the event loop cannot run its timers.
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
    const response = await probes.get('/health/live');

    expect(response.status).toBe(503);
    expect(response.body.details.process.reason).toMatch(/^the event loop stalled for \d+ ms$/);
    expect(response.body.details.process.event_loop_delay_max_ms).toBeGreaterThanOrEqual(50);
  });

  it('live ignores a failing Redis and account', async () => {
    probes = await startProbes({
      account: (a) => (a.state = 'revoked'),
      redis: { ping: () => Promise.reject(new Error('connection refused')) },
    });

    const response = await probes.get('/health/live');

    expect(response.status).toBe(200);
    expect(Object.keys(response.body.details)).toEqual(['process']);
  });

  it('ready lists each account without secrets', async () => {
    probes = await startProbes();

    const response = await probes.get('/health/ready');

    expect(response.status).toBe(200);
    expect(response.body.details.shutdown.status).toBe('up');
    expect(response.body.details.config).toEqual({
      status: 'up',
      accounts_configured: 1,
      redis_configured: false,
    });
    expect(response.body.details.redis).toEqual({ status: 'up', configured: false });
    expect(response.body.details.accounts.accounts).toEqual([
      {
        id: 'default',
        state: 'active',
        reason: 'session token refreshed',
        usable: true,
        has_token: true,
        token_expires_at: expect.any(String),
        last_refresh_at: expect.any(String),
        last_refresh_error: null,
      },
    ]);
    for (const secret of SECRETS) expect(response.text).not.toContain(secret);
  });

  it('ready turns 503 once shutdown begins', async () => {
    probes = await startProbes();
    expect((await probes.get('/health/ready')).status).toBe(200);

    probes.shutdown.begin();
    const response = await probes.get('/health/ready');

    expect(response.status).toBe(503);
    expect(response.contentType).toMatch(/^application\/json/);
    expect(response.body.status).toBe('error');
    expect(response.body.details.shutdown).toEqual({
      status: 'down',
      reason: 'this replica is shutting down',
      since: expect.any(String),
    });
    expect(response.body.details.accounts.status).toBe('up');
  });

  it('ready names why no account can serve', async () => {
    probes = await startProbes({
      account: (a) => {
        a.state = 'needs_relogin';
        a.stateReason = 'Clerk reports no active session for the cookie';
        a.lastRefreshError = `token refresh failed for ${JWT}`;
      },
    });

    const response = await probes.get('/health/ready');

    expect(response.status).toBe(503);
    expect(response.body.details.accounts.status).toBe('down');
    expect(response.body.details.accounts.reason).toBe(
      'no account has a usable session token; default: needs_relogin (Clerk reports no active session for the cookie)',
    );
    expect(response.body.details.accounts.accounts).toEqual([
      expect.objectContaining({ id: 'default', usable: false, has_token: false }),
    ]);
    for (const secret of SECRETS) expect(response.text).not.toContain(secret);
  });

  it('ready reports a failed Redis ping', async () => {
    probes = await startProbes({
      env: { REDIS_URL: 'redis://127.0.0.1:1' },
      redis: { ping: () => Promise.reject(new Error('Connection is closed.')) },
    });

    const response = await probes.get('/health/ready');

    expect(response.status).toBe(503);
    expect(response.body.details.redis).toEqual({
      status: 'down',
      configured: true,
      reason: 'ping failed: Connection is closed.',
    });
    expect(response.body.details.accounts.status).toBe('up');
  });

  it('ready bounds a hung Redis ping', async () => {
    probes = await startProbes({ redis: { ping: () => new Promise<string>(() => undefined) } });

    const response = await probes.get('/health/ready');

    expect(response.status).toBe(503);
    expect(response.body.details.redis).toEqual({
      status: 'down',
      reason: 'timed out after 1000 ms',
    });
    expect(response.body.details.shutdown.status).toBe('up');
  });

  it('startup waits for the first login', async () => {
    let settle!: () => void;
    const firstLogin = new Promise<void>((resolve) => (settle = resolve));
    probes = await startProbes({
      firstLogin,
      account: (a) => (a.stateReason = 'no session token yet'),
    });

    const before = await probes.get('/health/startup');
    expect(before.status).toBe(503);
    expect(before.body.details.session.reason).toBe('the first login is still running');

    probes.account.state = 'expired';
    probes.account.stateReason = 'Clerk rejected the session (authentication_invalid)';
    settle();
    await firstLogin;
    const after = await probes.get('/health/startup');

    expect(after.status).toBe(200);
    expect(after.body.details.session.accounts).toEqual([
      expect.objectContaining({
        id: 'default',
        state: 'expired',
        reason: 'Clerk rejected the session (authentication_invalid)',
        has_token: false,
      }),
    ]);
  });
});
