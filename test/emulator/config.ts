import {
  InvalidInput,
  checkBoolean,
  checkNumber,
  checkStringList,
  rejectUnknownKeys,
  requireRecord,
} from './validate';

/** An account the emulator starts with. */
export interface EmulatorAccountInput {
  id: string;
  /**
   * The `__client` value, or a whole Cookie header that contains it. When absent, a
   * JWT-looking value is derived from `id`.
   */
  cookie?: string;
  /** Default 500 on `pro`, 50 on `free`. */
  credits?: number;
  /** Default `sess_` followed by a hash of `id`. */
  sessionId?: string;
  /** Default `pro`. */
  plan?: 'free' | 'pro';
}

/** Options of `startEmulator`. Absent values fall back to the environment where noted. */
export interface EmulatorOptions {
  /** Listen address, default 127.0.0.1. */
  host?: string;
  /** Listen port, default 3100. 0 picks a free port. */
  port?: number;
  /** Session JWT lifetime in seconds, default 60 (env EMULATOR_JWT_TTL_S). */
  jwtTtlS?: number;
  /** Seconds from submit to `complete`, default 60 (env EMULATOR_GENERATION_S). */
  generationS?: number;
  /** Seconds until a lyrics job completes, default 2. */
  lyricsS?: number;
  /** Requested length of the generated MP3 in seconds, default 12 (env EMULATOR_CLIP_DURATION_S). */
  clipDurationS?: number;
  /** Maximum unfinished generate requests per account, default 10 (env EMULATOR_RUNNING_JOB_CAP). */
  runningJobCap?: number;
  /** Whether every generate request needs a captcha token, default false. */
  captchaRequired?: boolean;
  /** Moderation words, default ['forbiddenband'] (env EMULATOR_BLOCKED_WORDS, comma-separated). */
  blockedWords?: string[];
  /** Accounts to start with. The default is DEFAULT_ACCOUNT alone. */
  accounts?: EmulatorAccountInput[];
  /** Base URL of audio and image URLs, default http://<host>:<actual port>. */
  publicUrl?: string;
  /** Turns off the per-request log line on stdout. */
  quiet?: boolean;
}

/**
 * Settings that can change at run time through `PATCH /__emulator/config`. The keys are the
 * snake_case names of that JSON body.
 */
export interface EmulatorConfig {
  jwt_ttl_s: number;
  generation_s: number;
  lyrics_s: number;
  captcha_required: boolean;
  /** Number of generate requests after which an account needs a captcha token. Null turns this off. */
  captcha_after_generations: number | null;
  running_job_cap: number;
  blocked_words: string[];
  /** Whether Clerk calls without `__clerk_api_version` fail with 400 `api_version_invalid`. */
  require_api_version: boolean;
  /**
   * Highest `_clerk_js_version` (such as `5.34.0`) that Clerk accepts; a call that sends a newer
   * version gets 401 `authentication_invalid`. Null accepts every version.
   */
  max_clerk_js_version: string | null;
  /** Every n-th Clerk call of an account rotates its `__client` value. 0 turns rotation off. */
  rotate_every: number;
  /** Whether `GET /api/feed/?ids=` and `/api/feed/v2?ids=` leave out clips in `error` state. */
  feed_hides_errors: boolean;
  /** Whether the second clip of each new generate batch ends in `error` (a partial batch). */
  second_clip_fails: boolean;
}

/** Options after defaults and environment fallbacks are applied. */
export interface ResolvedOptions {
  host: string;
  port: number;
  clipDurationS: number;
  publicUrl: string | undefined;
  quiet: boolean;
  accounts: EmulatorAccountInput[] | undefined;
  config: EmulatorConfig;
}

const ENV_NUMBERS = {
  EMULATOR_PORT: 'port',
  EMULATOR_JWT_TTL_S: 'jwtTtlS',
  EMULATOR_GENERATION_S: 'generationS',
  EMULATOR_LYRICS_S: 'lyricsS',
  EMULATOR_CLIP_DURATION_S: 'clipDurationS',
  EMULATOR_RUNNING_JOB_CAP: 'runningJobCap',
} as const;

/**
 * Reads every EMULATOR_* variable into options. Throws one Error that lists each invalid
 * variable, so a typo stops the process at start.
 */
export function emulatorOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): EmulatorOptions {
  const options: EmulatorOptions = {};
  const problems: string[] = [];

  for (const [name, key] of Object.entries(ENV_NUMBERS)) {
    const raw = env[name];
    if (raw === undefined || raw.trim() === '') continue;
    const value = Number(raw);
    if (!Number.isFinite(value) || value < 0) {
      problems.push(`${name}=${JSON.stringify(raw)} is not a non-negative number`);
      continue;
    }
    options[key] = value;
  }
  for (const [name, key] of [
    ['EMULATOR_CAPTCHA_REQUIRED', 'captchaRequired'],
    ['EMULATOR_QUIET', 'quiet'],
  ] as const) {
    const raw = env[name];
    if (raw === undefined || raw === '') continue;
    if (!['true', 'false', '1', '0'].includes(raw)) {
      problems.push(`${name}=${JSON.stringify(raw)} must be true, false, 1 or 0`);
      continue;
    }
    options[key] = raw === 'true' || raw === '1';
  }
  if (env.EMULATOR_HOST) options.host = env.EMULATOR_HOST;
  if (env.EMULATOR_PUBLIC_URL) options.publicUrl = env.EMULATOR_PUBLIC_URL.replace(/\/+$/, '');
  if (env.EMULATOR_BLOCKED_WORDS !== undefined) {
    options.blockedWords = env.EMULATOR_BLOCKED_WORDS.split(',')
      .map((word) => word.trim())
      .filter((word) => word !== '');
  }
  if (problems.length > 0) {
    throw new Error(
      `Invalid emulator environment: ${problems.join(', ')}. Fix or unset these variables.`,
    );
  }

  return options;
}

/**
 * Applies defaults. Only the options documented with an env variable on EmulatorOptions fall
 * back to the environment, so host and port never change under a test because of it.
 */
export function resolveOptions(
  options: EmulatorOptions,
  env: NodeJS.ProcessEnv = process.env,
): ResolvedOptions {
  const fromEnv = emulatorOptionsFromEnv(env);
  const pick = <K extends keyof EmulatorOptions>(key: K): EmulatorOptions[K] =>
    options[key] ?? fromEnv[key];
  const config: EmulatorConfig = {
    jwt_ttl_s: pick('jwtTtlS') ?? 60,
    generation_s: pick('generationS') ?? 60,
    lyrics_s: options.lyricsS ?? 2,
    captcha_required: options.captchaRequired ?? false,
    captcha_after_generations: null,
    running_job_cap: pick('runningJobCap') ?? 10,
    blocked_words: [...(pick('blockedWords') ?? ['forbiddenband'])],
    require_api_version: false,
    max_clerk_js_version: null,
    rotate_every: 5,
    feed_hides_errors: true,
    second_clip_fails: false,
  };
  // The patch validator doubles as the check of start options, so both reject the same values.
  const checked = patchConfig(config, config);

  return {
    host: options.host ?? '127.0.0.1',
    port: options.port ?? 3100,
    clipDurationS: checkNumber(pick('clipDurationS') ?? 12, 'clipDurationS', {
      min: 0.1,
      max: 600,
    }),
    publicUrl: checkPublicUrl(options.publicUrl),
    quiet: options.quiet ?? false,
    accounts: options.accounts,
    config: checked,
  };
}

function checkPublicUrl(url: string | undefined): string | undefined {
  if (url === undefined) return undefined;
  if (!URL.canParse(url)) {
    throw new Error(
      `publicUrl ${JSON.stringify(url)} is not an absolute URL such as http://127.0.0.1:3100`,
    );
  }

  return url.replace(/\/+$/, '');
}

type Validators = { [K in keyof EmulatorConfig]: (value: unknown) => EmulatorConfig[K] };

const CONFIG_VALIDATORS: Validators = {
  jwt_ttl_s: (v) => checkNumber(v, 'jwt_ttl_s', { min: 0, integer: true }),
  generation_s: (v) => checkNumber(v, 'generation_s', { min: 0.01 }),
  lyrics_s: (v) => checkNumber(v, 'lyrics_s', { min: 0 }),
  captcha_required: (v) => checkBoolean(v, 'captcha_required'),
  captcha_after_generations: (v) =>
    v === null ? null : checkNumber(v, 'captcha_after_generations', { min: 0, integer: true }),
  running_job_cap: (v) => checkNumber(v, 'running_job_cap', { min: 0, integer: true }),
  blocked_words: (v) =>
    checkStringList(v, 'blocked_words')
      .map((word) => word.trim().toLowerCase())
      .filter((word) => word !== ''),
  require_api_version: (v) => checkBoolean(v, 'require_api_version'),
  max_clerk_js_version: (v) => (v === null ? null : checkVersion(v, 'max_clerk_js_version')),
  rotate_every: (v) => checkNumber(v, 'rotate_every', { min: 0, integer: true }),
  feed_hides_errors: (v) => checkBoolean(v, 'feed_hides_errors'),
  second_clip_fails: (v) => checkBoolean(v, 'second_clip_fails'),
};

/** Accepts a dotted version of three whole numbers, such as 5.34.0. */
function checkVersion(value: unknown, key: string): string {
  if (typeof value !== 'string' || !/^\d+\.\d+\.\d+$/.test(value)) {
    throw new InvalidInput(
      `${key} must be a version such as "5.34.0" or null, got ${JSON.stringify(value)}`,
    );
  }

  return value;
}

const CONFIG_KEYS = Object.keys(CONFIG_VALIDATORS) as (keyof EmulatorConfig)[];

/**
 * Returns a copy of `config` with the fields of `patch` applied. Throws InvalidInput for an
 * unknown field or an invalid value.
 */
export function patchConfig(config: EmulatorConfig, patch: unknown): EmulatorConfig {
  const body = requireRecord(patch, 'config patch');
  rejectUnknownKeys(body, CONFIG_KEYS);
  const next: EmulatorConfig = { ...config, blocked_words: [...config.blocked_words] };
  for (const key of CONFIG_KEYS) {
    if (body[key] !== undefined) {
      assignConfig(next, key, CONFIG_VALIDATORS[key](body[key]));
    }
  }

  return next;
}

function assignConfig<K extends keyof EmulatorConfig>(
  config: EmulatorConfig,
  key: K,
  value: EmulatorConfig[K],
): void {
  config[key] = value;
}
