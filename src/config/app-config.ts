/** Typed configuration, validated once at boot. Durations are milliseconds unless named `_s`. */
export interface ApiKey {
  /** Short name used in logs and metrics; never the key itself. */
  id: string;
  key: string;
}

export interface AccountConfig {
  id: string;
  cookie: string;
  clientToken: string;
  sessionId?: string;
  /** Set when the configured cookie is unusable; the account starts disabled with this reason. */
  invalidReason?: string;
}

export interface AppConfig {
  env: 'development' | 'production' | 'test';
  server: {
    host: string;
    port: number;
    bodyLimitBytes: number;
    /** Time readiness stays 503 while the server still serves, so endpoint removal propagates. */
    shutdownDrainMs: number;
    /** Maximum time in-flight requests may keep running after the drain. */
    shutdownWaitCapMs: number;
  };
  health: {
    /** Liveness fails while the V8 heap in use is above this many bytes. */
    maxHeapBytes: number;
    /** Liveness fails when the longest event-loop stall since the previous liveness probe reached this. */
    maxEventLoopDelayMs: number;
  };
  auth: { disabled: boolean; apiKeys: ApiKey[] };
  upstream: {
    baseUrl: string;
    authUrl: string;
    clerkJsVersion: string;
    clerkApiVersion: string;
    userAgent: string;
    connectTimeoutMs: number;
    authTimeoutMs: number;
    readTimeoutMs: number;
    submitTimeoutMs: number;
    maxSockets: number;
    maxSocketsPerHost: number;
    freeSocketTimeoutMs: number;
    proxyUrl?: string;
  };
  resilience: {
    maxAttempts: number;
    backoffBaseMs: number;
    backoffMaxMs: number;
    /** Share of calls that may be retries, over the sliding window. */
    retryBudgetRatio: number;
    /** Retries always allowed per window, so a quiet account can still retry. */
    retryBudgetMinRetries: number;
    retryBudgetWindowMs: number;
    breakerThreshold: number;
    breakerOpenMs: number;
    bulkheadLimit: number;
    bulkheadQueue: number;
    bulkheadQueueTimeoutMs: number;
  };
  session: {
    /** Refresh the JWT this long before `exp`. */
    refreshAheadMs: number;
    backgroundRefresh: boolean;
    retryBaseMs: number;
    retryMaxMs: number;
    /** Time an account that hit the captcha gate is skipped; the next request after it is the probe. */
    captchaCoolDownMs: number;
    /** AES-256 key that encrypts rotated cookies persisted in Redis; without it they stay in memory. */
    encryptionKey?: Buffer;
  };
  accounts: AccountConfig[];
  generation: {
    /** Default and cap of one `wait=true` request; kept below proxy and platform timeouts. */
    waitBudgetMs: number;
    maxWaitBudgetMs: number;
    pollIntervalMs: number;
    /** After this long a generation that never finished is reported as `timeout`. */
    maxAgeMs: number;
  };
  /** How often billing is read in the background to keep the credits gauge fresh; 0 turns it off. */
  creditsRefreshMs: number;
  idempotency: { ttlMs: number };
  redisUrl?: string;
  log: { level: string; pretty: boolean };
  metrics: { enabled: boolean };
}
