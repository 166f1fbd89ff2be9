import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { getHeapStatistics } from 'node:v8';
import { parse as parseYaml } from 'yaml';
import { ZodIssue } from 'zod';
import { AccountConfig, ApiKey, AppConfig } from './app-config';
import { sanitizeCookie } from './cookie';
import { Env, decodeKey, envSchema } from './env.schema';

/** Thrown at boot; its message lists every bad variable, one per line, without secret values. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

const PLACEHOLDER_KEYS = new Set([
  'changeme',
  'change-me',
  'demo-key',
  'secret',
  'your-api-key',
  'REPLACE_ME',
  'replace-me',
]);

/** Validates the environment and builds the typed configuration, or throws a ConfigError. */
export function loadConfig(source: NodeJS.ProcessEnv = process.env): AppConfig {
  const parsed = envSchema.safeParse(source);
  const problems: string[] = parsed.success ? [] : parsed.error.issues.map(describeIssue);
  const env = parsed.success ? parsed.data : parseWithoutInvalid(source, parsed.error.issues);
  const apiKeys = parseApiKeys(env, problems);
  const accounts = loadAccounts(env, problems);

  if (env.WAIT_BUDGET_MS > env.WAIT_MAX_BUDGET_MS) {
    problems.push('WAIT_BUDGET_MS must not exceed WAIT_MAX_BUDGET_MS');
  }
  if (env.RETRY_BACKOFF_BASE_MS > env.RETRY_BACKOFF_MAX_MS) {
    problems.push('RETRY_BACKOFF_BASE_MS must not exceed RETRY_BACKOFF_MAX_MS');
  }
  if (
    env.UPSTREAM_PROXY_URL &&
    [env.SUNO_BASE_URL, env.SUNO_AUTH_URL].some((u) => !u.startsWith('http:'))
  ) {
    problems.push(
      'UPSTREAM_PROXY_URL works only with http:// SUNO_BASE_URL and SUNO_AUTH_URL; proxying https upstreams (CONNECT) is not supported yet',
    );
  }
  if (problems.length > 0) {
    throw new ConfigError(problems);
  }

  return buildConfig(env, apiKeys, accounts);
}

/**
 * Parses again with the invalid variables left out (so their defaults apply), letting the
 * checks that span several variables run too: one boot then reports every problem.
 */
function parseWithoutInvalid(source: NodeJS.ProcessEnv, issues: ZodIssue[]): Env {
  const rest = { ...source };
  for (const issue of issues) delete rest[String(issue.path[0])];
  const retry = envSchema.safeParse(rest);
  if (!retry.success) throw new ConfigError(issues.map(describeIssue));

  return retry.data;
}

function buildConfig(env: Env, apiKeys: ApiKey[], accounts: AccountConfig[]): AppConfig {
  return {
    env: env.NODE_ENV,
    server: {
      host: env.HOST,
      port: env.PORT,
      bodyLimitBytes: env.BODY_LIMIT_BYTES,
      shutdownDrainMs: env.SHUTDOWN_DRAIN_MS,
      shutdownWaitCapMs: env.SHUTDOWN_WAIT_CAP_MS,
    },
    health: {
      maxHeapBytes: (env.HEALTH_MAX_HEAP_MB ?? defaultMaxHeapMb()) * MB,
      maxEventLoopDelayMs: env.HEALTH_MAX_EVENT_LOOP_DELAY_MS,
    },
    auth: { disabled: env.AUTH_DISABLED, apiKeys },
    upstream: {
      baseUrl: env.SUNO_BASE_URL,
      authUrl: env.SUNO_AUTH_URL,
      clerkJsVersion: env.SUNO_CLERK_JS_VERSION,
      clerkApiVersion: env.SUNO_CLERK_API_VERSION,
      userAgent: env.SUNO_USER_AGENT,
      connectTimeoutMs: env.UPSTREAM_CONNECT_TIMEOUT_MS,
      authTimeoutMs: env.UPSTREAM_AUTH_TIMEOUT_MS,
      readTimeoutMs: env.UPSTREAM_READ_TIMEOUT_MS,
      submitTimeoutMs: env.UPSTREAM_SUBMIT_TIMEOUT_MS,
      maxSockets: env.UPSTREAM_MAX_SOCKETS,
      maxSocketsPerHost: env.UPSTREAM_MAX_SOCKETS_PER_HOST,
      freeSocketTimeoutMs: env.UPSTREAM_FREE_SOCKET_TIMEOUT_MS,
      proxyUrl: env.UPSTREAM_PROXY_URL,
    },
    resilience: {
      maxAttempts: env.RETRY_MAX_ATTEMPTS,
      backoffBaseMs: env.RETRY_BACKOFF_BASE_MS,
      backoffMaxMs: env.RETRY_BACKOFF_MAX_MS,
      retryBudgetRatio: env.RETRY_BUDGET_RATIO,
      retryBudgetMinRetries: env.RETRY_BUDGET_MIN_RETRIES,
      retryBudgetWindowMs: env.RETRY_BUDGET_WINDOW_MS,
      breakerThreshold: env.BREAKER_THRESHOLD,
      breakerOpenMs: env.BREAKER_OPEN_MS,
      bulkheadLimit: env.BULKHEAD_LIMIT,
      bulkheadQueue: env.BULKHEAD_QUEUE,
      bulkheadQueueTimeoutMs: env.BULKHEAD_QUEUE_TIMEOUT_MS,
    },
    session: {
      refreshAheadMs: env.SESSION_REFRESH_AHEAD_MS,
      backgroundRefresh: env.SESSION_BACKGROUND_REFRESH,
      retryBaseMs: env.SESSION_RETRY_BASE_MS,
      retryMaxMs: env.SESSION_RETRY_MAX_MS,
      captchaCoolDownMs: env.CAPTCHA_COOLDOWN_MS,
      encryptionKey: env.SESSION_ENCRYPTION_KEY ? decodeKey(env.SESSION_ENCRYPTION_KEY) : undefined,
    },
    accounts,
    generation: {
      waitBudgetMs: env.WAIT_BUDGET_MS,
      maxWaitBudgetMs: env.WAIT_MAX_BUDGET_MS,
      pollIntervalMs: env.POLL_INTERVAL_MS,
      maxAgeMs: env.GENERATION_MAX_AGE_MS,
    },
    creditsRefreshMs: env.CREDITS_REFRESH_MS,
    idempotency: { ttlMs: env.IDEMPOTENCY_TTL_MS },
    redisUrl: env.REDIS_URL,
    log: { level: env.LOG_LEVEL, pretty: env.LOG_PRETTY ?? Boolean(process.stdout.isTTY) },
    metrics: { enabled: env.METRICS_ENABLED },
  };
}

const MB = 1024 * 1024;

/**
 * 90% of V8's heap limit, which follows `--max-old-space-size`, so liveness fails while the
 * process can still respond instead of after V8 aborts with an out-of-memory error.
 */
function defaultMaxHeapMb(): number {
  return Math.floor((getHeapStatistics().heap_size_limit * 0.9) / MB);
}

function describeIssue(issue: ZodIssue): string {
  const name = issue.path.join('.') || 'environment';
  const message =
    issue.code === 'invalid_type' && issue.received === 'undefined' ? 'is required' : issue.message;

  return `${name} ${message}`;
}

/** `API_KEYS` entries are `key` or `name:key`; an unnamed key gets a name derived from its hash. */
function parseApiKeys(env: Env, problems: string[]): ApiKey[] {
  const entries = (env.API_KEYS ?? '')
    .split(',')
    .map((e) => e.trim())
    .filter((e) => e.length > 0);
  const keys = entries.map((entry): ApiKey => {
    const colon = entry.indexOf(':');
    if (colon > 0) {
      return { id: entry.slice(0, colon), key: entry.slice(colon + 1) };
    }

    return {
      id: `key-${createHash('sha256').update(entry).digest('hex').slice(0, 8)}`,
      key: entry,
    };
  });

  if (keys.length === 0 && !env.AUTH_DISABLED) {
    problems.push(
      'API_KEYS is required (comma-separated keys), or set AUTH_DISABLED=true for a local test setup',
    );
  }
  keys.forEach((k, i) => {
    if (k.key.length < 8)
      problems.push(`API_KEYS entry ${i + 1} must be at least 8 characters long`);
    if (env.NODE_ENV === 'production' && PLACEHOLDER_KEYS.has(k.key)) {
      problems.push(`API_KEYS entry ${i + 1} is a placeholder value; set a real key in production`);
    }
  });

  return keys;
}

interface RawAccount {
  id?: unknown;
  cookie?: unknown;
  session_id?: unknown;
}

function loadAccounts(env: Env, problems: string[]): AccountConfig[] {
  if (env.SUNO_ACCOUNTS_FILE) {
    return loadAccountsFile(env.SUNO_ACCOUNTS_FILE, problems);
  }
  if (!env.SUNO_COOKIE) {
    problems.push(
      'SUNO_COOKIE is required (the Cookie header of a signed-in suno.com session), or set SUNO_ACCOUNTS_FILE',
    );

    return [];
  }
  const check = sanitizeCookie(env.SUNO_COOKIE);
  if (!check.ok) {
    problems.push(`SUNO_COOKIE ${check.reason}`);

    return [];
  }

  return [
    {
      id: 'default',
      cookie: check.cookie,
      clientToken: check.clientToken,
      sessionId: env.SUNO_SESSION_ID,
    },
  ];
}

/** Loads a pool file. A bad entry disables that account with its reason; only a file with no usable account stops the boot. */
function loadAccountsFile(path: string, problems: string[]): AccountConfig[] {
  let raw: unknown;
  try {
    const text = readFileSync(path, 'utf8');
    raw = path.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    problems.push(
      `SUNO_ACCOUNTS_FILE could not be read as JSON or YAML: ${(err as Error).message.split('\n')[0]}`,
    );

    return [];
  }
  const list = Array.isArray(raw) ? raw : (raw as { accounts?: unknown } | null)?.accounts;
  if (!Array.isArray(list) || list.length === 0) {
    problems.push(
      'SUNO_ACCOUNTS_FILE must hold a non-empty list of accounts {id, cookie, session_id?}',
    );

    return [];
  }
  const accounts = list.map((entry: RawAccount, i) => toAccount(entry, i));
  const ids = new Set<string>();
  for (const account of accounts) {
    if (ids.has(account.id))
      problems.push(`SUNO_ACCOUNTS_FILE has the account id "${account.id}" twice`);
    ids.add(account.id);
  }
  if (accounts.every((a) => a.invalidReason)) {
    problems.push(
      `SUNO_ACCOUNTS_FILE has no usable account: ${accounts.map((a) => `${a.id} ${a.invalidReason}`).join('; ')}`,
    );
  }

  return accounts;
}

function toAccount(entry: RawAccount, index: number): AccountConfig {
  const id =
    typeof entry?.id === 'string' && /^[A-Za-z0-9_.-]{1,64}$/.test(entry.id)
      ? entry.id
      : `account-${index + 1}`;
  const sessionId = typeof entry?.session_id === 'string' ? entry.session_id : undefined;
  if (typeof entry?.cookie !== 'string') {
    return { id, cookie: '', clientToken: '', sessionId, invalidReason: 'has no cookie' };
  }
  const check = sanitizeCookie(entry.cookie);
  if (!check.ok) {
    return { id, cookie: '', clientToken: '', sessionId, invalidReason: `cookie ${check.reason}` };
  }

  return { id, cookie: check.cookie, clientToken: check.clientToken, sessionId };
}
