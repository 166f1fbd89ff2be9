import { z } from 'zod';

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'], {
    errorMap: () => ({ message: 'must be true or false' }),
  })
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

const int = (min: number, max: number) =>
  z.coerce
    .number({ invalid_type_error: 'must be a number' })
    .int('must be a whole number')
    .min(min, `must be at least ${min}`)
    .max(max, `must be at most ${max}`);

const ratio = z.coerce
  .number({ invalid_type_error: 'must be a number' })
  .min(0, 'must be between 0 and 1')
  .max(1, 'must be between 0 and 1');

const url = z
  .string()
  .url('must be an absolute URL such as https://host')
  .refine((v) => /^https?:\/\//.test(v), 'must use http or https')
  .transform((v) => v.replace(/\/+$/, ''));

const HOUR = 3_600_000;

/** Decodes a 256-bit key given as hex or base64. */
export function decodeKey(value: string): Buffer | undefined {
  const bytes = /^[0-9a-f]{64}$/i.test(value)
    ? Buffer.from(value, 'hex')
    : Buffer.from(value, 'base64');

  return bytes.length === 32 ? bytes : undefined;
}

/** Environment variables and their defaults; unknown variables are ignored. */
export const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  HOST: z.string().min(1).default('0.0.0.0'),
  PORT: int(0, 65535).default(3000),
  BODY_LIMIT_BYTES: int(1024, 10_000_000).default(262_144),
  SHUTDOWN_DRAIN_MS: int(0, 120_000).default(5_000),
  SHUTDOWN_WAIT_CAP_MS: int(0, 600_000).default(20_000),
  /** Liveness fails above this V8 heap use; default 90% of V8's heap limit (`--max-old-space-size`). */
  HEALTH_MAX_HEAP_MB: int(16, 1_048_576).optional(),
  /** Liveness fails when the event loop stalled this long since the previous liveness probe. */
  HEALTH_MAX_EVENT_LOOP_DELAY_MS: int(50, 600_000).default(2_000),

  API_KEYS: z.string().optional(),
  AUTH_DISABLED: bool.default('false'),

  SUNO_COOKIE: z.string().optional(),
  SUNO_SESSION_ID: z
    .string()
    .regex(/^sess_[A-Za-z0-9]+$/, 'must look like sess_<letters and digits>')
    .optional(),
  SUNO_ACCOUNTS_FILE: z.string().optional(),
  SUNO_BASE_URL: url.default('https://studio-api.prod.suno.com'),
  SUNO_AUTH_URL: url.default('https://auth.suno.com'),
  SUNO_CLERK_JS_VERSION: z
    .string()
    .regex(/^\d+\.\d+\.\d+$/, 'must be a version such as 5.117.0')
    .default('5.117.0'),
  SUNO_CLERK_API_VERSION: z
    .string()
    .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date such as 2025-11-10')
    .default('2025-11-10'),
  SUNO_USER_AGENT: z
    .string()
    .default(
      'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36',
    ),
  /** Forward proxy for every upstream call, such as http://proxy:3128; only http upstream URLs for now. */
  UPSTREAM_PROXY_URL: url.optional(),

  UPSTREAM_CONNECT_TIMEOUT_MS: int(10, 60_000).default(3_000),
  UPSTREAM_AUTH_TIMEOUT_MS: int(10, 120_000).default(5_000),
  UPSTREAM_READ_TIMEOUT_MS: int(10, 120_000).default(10_000),
  UPSTREAM_SUBMIT_TIMEOUT_MS: int(10, 300_000).default(30_000),
  UPSTREAM_MAX_SOCKETS: int(1, 10_000).default(256),
  UPSTREAM_MAX_SOCKETS_PER_HOST: int(1, 10_000).default(64),
  UPSTREAM_FREE_SOCKET_TIMEOUT_MS: int(100, 600_000).default(15_000),

  RETRY_MAX_ATTEMPTS: int(1, 3).default(3),
  RETRY_BACKOFF_BASE_MS: int(1, 60_000).default(200),
  RETRY_BACKOFF_MAX_MS: int(1, 120_000).default(5_000),
  RETRY_BUDGET_RATIO: ratio.default(0.1),
  RETRY_BUDGET_MIN_RETRIES: int(0, 10_000).default(5),
  RETRY_BUDGET_WINDOW_MS: int(100, 3_600_000).default(60_000),
  BREAKER_THRESHOLD: int(1, 1000).default(5),
  BREAKER_OPEN_MS: int(10, 3_600_000).default(10_000),
  BULKHEAD_LIMIT: int(1, 1000).default(10),
  BULKHEAD_QUEUE: int(0, 10_000).default(20),
  BULKHEAD_QUEUE_TIMEOUT_MS: int(0, 600_000).default(10_000),

  SESSION_REFRESH_AHEAD_MS: int(0, 3_600_000).default(15_000),
  SESSION_BACKGROUND_REFRESH: bool.default('true'),
  SESSION_RETRY_BASE_MS: int(1, 600_000).default(1_000),
  SESSION_RETRY_MAX_MS: int(1, 3_600_000).default(60_000),
  /** How long an account that hit the captcha gate is left out before a request tries it again. */
  CAPTCHA_COOLDOWN_MS: int(0, 24 * HOUR).default(5 * 60_000),
  SESSION_ENCRYPTION_KEY: z
    .string()
    .refine(
      (v) => decodeKey(v) !== undefined,
      'must be 32 bytes as 64 hex characters or base64 (openssl rand -base64 32)',
    )
    .optional(),

  WAIT_BUDGET_MS: int(0, 600_000).default(25_000),
  WAIT_MAX_BUDGET_MS: int(0, 600_000).default(55_000),
  POLL_INTERVAL_MS: int(50, 60_000).default(2_000),
  GENERATION_MAX_AGE_MS: int(1_000, 24 * HOUR).default(30 * 60_000),
  CREDITS_REFRESH_MS: int(0, 24 * HOUR).default(5 * 60_000),
  IDEMPOTENCY_TTL_MS: int(1_000, 7 * 24 * HOUR).default(24 * HOUR),

  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL')
    .optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  LOG_PRETTY: bool.optional(),
  METRICS_ENABLED: bool.default('true'),
});

export type Env = z.infer<typeof envSchema>;
