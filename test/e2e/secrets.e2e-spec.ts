/**
 * Credentials must never leave the gateway. After every route ran, failures included, the
 * spec searches each log line, response (body and headers) and metrics scrape for marker
 * values of the cookie, its `__client`, the session id, the API key and every minted JWT.
 */
import { randomBytes } from 'node:crypto';
import { ConfigError, loadConfig } from '../../src/config/load-config';
import { eventually, startStack, type GatewayResponse, type Stack } from './support/harness';

const TAG = randomBytes(6).toString('hex');
const CLIENT_MARKER = `clientMARKER${TAG}secretvalue`;
const SESSION_MARKER = `sess_MARKERsession${TAG}`;
const API_KEY_MARKER = `apikeyMARKER${TAG}`;
const WRONG_KEY_MARKER = `wrongkeyMARKER${TAG}`;
/** The whole Cookie header; its analytics cookies are not credentials and carry no tag. */
const COOKIE_MARKER = [
  'ajs_anonymous_id=%2231a5f0c2%22',
  `__client=${CLIENT_MARKER}`,
  '__client_uat=1735689600',
  '_ga=GA1.1.1402938475',
].join('; ');
/** Any JWT, whether or not it is one of ours: none may appear unredacted. */
const ANY_JWT = /eyJ[\w-]{4,}\.eyJ[\w-]{4,}\.[\w-]{4,}/;
const LYRICS = '[Verse]\nKeys beneath the doormat\n[Chorus]\nNobody else should know';

describe('secrets', () => {
  let stack: Stack;
  const seen: string[] = [];

  /** Sends a request and keeps its status line, headers and body for the final search. */
  async function call(
    method: string,
    path: string,
    options: Parameters<Stack['request']>[2] = {},
  ): Promise<GatewayResponse> {
    const response = await stack.request(method, path, options);
    seen.push(
      `${method} ${path} -> ${response.status}\n${JSON.stringify([...response.headers])}\n${response.text}`,
    );

    return response;
  }

  beforeAll(async () => {
    stack = await startStack({
      emulator: {
        generationS: 1,
        lyricsS: 0.2,
        accounts: [
          { id: 'marked', cookie: CLIENT_MARKER, sessionId: SESSION_MARKER, credits: 500 },
        ],
      },
      env: {
        SUNO_COOKIE: COOKIE_MARKER,
        API_KEYS: `secrets-client:${API_KEY_MARKER}`,
        LOG_LEVEL: 'trace',
        UPSTREAM_READ_TIMEOUT_MS: '300',
        UPSTREAM_SUBMIT_TIMEOUT_MS: '600',
        BREAKER_THRESHOLD: '1000',
        RETRY_BACKOFF_MAX_MS: '50',
      },
      apiKey: API_KEY_MARKER,
    });
  });

  afterAll(async () => {
    await stack?.close();
  });

  it('no marker appears in logs, responses or metrics', async () => {
    await driveEveryRoute();
    await driveFailures();
    for (const accept of ['text/plain', 'application/openmetrics-text; version=1.0.0']) {
      const metrics = await call('GET', '/metrics', { headers: { accept } });
      expect(metrics.status).toBe(200);
    }

    const minted = [...stack.emulator.state.verifiedTokens.keys()];
    const clientValues = stack.emulator.state.accounts.get('marked')!.clientValues;
    // Rotation must have happened, so rotated `__client` values are searched for too.
    expect(clientValues.length).toBeGreaterThan(1);
    expect(minted.length).toBeGreaterThan(0);
    const markers = [
      COOKIE_MARKER,
      CLIENT_MARKER,
      SESSION_MARKER,
      API_KEY_MARKER,
      WRONG_KEY_MARKER,
      ...clientValues,
      ...minted,
    ];
    const signatures = minted.map((jwt) => jwt.split('.')[2]);
    const logs = stack.rawLogs();
    const logLines = stack.logs();
    expect(logLines.length).toBeGreaterThan(100);
    expect(logLines.some((line) => line.level === 'error')).toBe(true);

    for (const [where, text] of [
      ['logs', logs],
      ...seen.map((entry) => [entry.split('\n')[0], entry]),
    ] as [string, string][]) {
      // The tag alone finds a marker that was cut short, too.
      for (const marker of [...markers, ...signatures, TAG]) {
        expect({ where, leaked: text.includes(marker) ? marker : null }).toEqual({
          where,
          leaked: null,
        });
      }
      expect({ where, jwt: ANY_JWT.exec(text)?.[0] ?? null }).toEqual({ where, jwt: null });
    }
  }, 60_000);

  it('config errors name the problem without the cookie', () => {
    const base = {
      API_KEYS: API_KEY_MARKER,
      SUNO_BASE_URL: 'http://127.0.0.1:9',
      SUNO_AUTH_URL: 'http://127.0.0.1:9',
    };
    const cookies = [
      `__cf_bm=${CLIENT_MARKER}`,
      `__client=${CLIENT_MARKER}\u2026`,
      `"__client=${CLIENT_MARKER}\u00e9"`,
    ];

    for (const cookie of cookies) {
      let message = '';
      try {
        loadConfig({ ...base, SUNO_COOKIE: cookie, API_KEYS: 'short' });
      } catch (err) {
        expect(err).toBeInstanceOf(ConfigError);
        message = (err as Error).message;
      }

      expect(message).toMatch(/SUNO_COOKIE/);
      expect(message).toMatch(/API_KEYS/);
      expect(message).not.toContain(TAG);
      expect(message).not.toContain('short');
    }
  });

  async function driveEveryRoute(): Promise<void> {
    const created = await call('POST', '/v1/generations?wait=true', {
      body: { prompt: LYRICS, title: 'Doormat', tags: 'indie', mv: 'chirp-v3-5' },
    });
    expect(created.status).toBe(200);
    const [first, second] = created.body.clips.map((c: { id: string }) => c.id);
    const described = await call('POST', '/v1/generations?wait=true', {
      body: { gpt_description_prompt: 'a song about spare keys', mv: 'chirp-v3-5' },
    });
    expect(described.status).toBe(200);

    await call('GET', `/v1/generations/${created.body.id}`);
    await call('GET', `/v1/clips/${first}`);
    await call('GET', `/v1/clips?ids=${first},${second}`);
    await call('GET', `/v1/clips/${first}/aligned-lyrics`);
    const extended = await call('POST', `/v1/clips/${first}/extend?wait=true`, {
      body: { continue_at: 1, prompt: '[Outro]\nLock the door', mv: 'chirp-v3-5' },
    });
    expect(extended.status).toBe(200);
    const concat = await call('POST', `/v1/clips/${extended.body.clips[0].id}/concat?wait=true`);
    expect(concat.status).toBe(200);
    const lyrics = await call('POST', '/v1/lyrics?wait=true&timeout_s=5', {
      body: { prompt: 'a locksmith in love' },
    });
    expect(lyrics.body.status).toBe('complete');
    await call('GET', `/v1/lyrics/${lyrics.body.id}`);
    expect((await call('GET', '/v1/credits')).status).toBe(200);
    expect((await call('GET', '/v1/accounts')).status).toBe(200);

    await call('GET', '/');
    await call('POST', '/generate', {
      body: { prompt: LYRICS, tags: 'indie', title: 'Compat', mv: 'chirp-v3-5' },
    });
    await call('POST', '/generate/description-mode', {
      body: { gpt_description_prompt: 'a lullaby for a lock', mv: 'chirp-v3-5' },
    });
    await call('GET', `/feed/${first},${second}`);
    const compatLyrics = await call('POST', '/generate/lyrics/', { body: { prompt: 'keys' } });
    await call('GET', `/lyrics/${compatLyrics.body.id}`);
    await call('GET', '/get_credits');

    for (const probe of ['/health/live', '/health/ready', '/health/startup', '/docs-json'])
      await call('GET', probe);

    // Five Clerk calls rotate `__client` once; 401 faults force token refreshes until then.
    await eventually(async () => {
      if (stack.emulator.state.accounts.get('marked')!.clientValues.length > 1) return true;
      await stack.fault({
        match: 'billing',
        action: 'status',
        status: 401,
        body: { detail: 'Unauthorized' },
        count: 1,
      });
      await call('GET', '/v1/credits');

      return undefined;
    }, 'a __client rotation');
  }

  async function driveFailures(): Promise<void> {
    const jwt = [...stack.emulator.state.verifiedTokens.keys()][0];
    const echo = `Bearer ${jwt} rejected for __client=${CLIENT_MARKER} in ${SESSION_MARKER}; cookie ${COOKIE_MARKER}`;
    const failures: {
      fault?: Record<string, unknown>;
      method: string;
      path: string;
      body?: unknown;
      headers?: Record<string, string>;
      auth?: boolean;
    }[] = [
      {
        method: 'GET',
        path: '/v1/credits',
        headers: { authorization: `Bearer ${WRONG_KEY_MARKER}` },
      },
      { method: 'GET', path: '/v1/credits', auth: false },
      {
        fault: { match: 'billing', action: 'status', status: 500, body: { detail: echo } },
        method: 'GET',
        path: '/v1/credits',
      },
      {
        fault: { match: 'billing', action: 'status', status: 400, body: { message: echo } },
        method: 'GET',
        path: '/get_credits',
      },
      {
        fault: {
          match: 'billing',
          action: 'status',
          status: 503,
          body: `<html><body>${echo}</body></html>`,
          content_type: 'text/html',
        },
        method: 'GET',
        path: '/v1/credits',
      },
      {
        fault: { match: 'billing', action: 'status', status: 200, body: `not json ${echo}` },
        method: 'GET',
        path: '/v1/credits',
      },
      {
        fault: {
          match: 'generate',
          action: 'status',
          status: 422,
          body: { detail: [{ loc: ['body', 'token'], msg: echo, type: 'value_error' }] },
        },
        method: 'POST',
        path: '/v1/generations',
        body: { prompt: LYRICS },
      },
      {
        fault: { match: 'generate', action: 'status', status: 500, body: { detail: echo } },
        method: 'POST',
        path: '/generate',
        body: { prompt: LYRICS },
      },
      {
        fault: { match: 'feed', action: 'status', status: 401, body: { detail: echo } },
        method: 'GET',
        path: `/v1/clips?ids=${randomUuid()}`,
      },
      {
        fault: { match: 'clip', action: 'hang' },
        method: 'GET',
        path: `/v1/clips/${randomUuid()}`,
      },
      {
        fault: { match: 'lyrics_submit', action: 'reset_before' },
        method: 'POST',
        path: '/v1/lyrics',
        body: { prompt: 'x' },
      },
      {
        fault: { match: 'generate', action: 'hang' },
        method: 'POST',
        path: '/v1/generations',
        body: { prompt: 'a hung song' },
      },
      {
        method: 'POST',
        path: '/v1/generations?wait=true',
        body: { gpt_description_prompt: 'in the style of forbiddenband', mv: 'chirp-v3-5' },
      },
    ];
    for (const failure of failures) {
      if (failure.fault) await stack.fault(failure.fault as never);
      const response = await call(failure.method, failure.path, {
        body: failure.body,
        headers: failure.headers,
        auth: failure.auth,
      });
      expect(response.status).toBeGreaterThanOrEqual(400);
      await stack.clearFaults();
    }

    // Clerk failures last: they leave the account unusable for the rest of the stack's life.
    await stack.fault({
      match: 'billing',
      action: 'status',
      status: 401,
      body: { detail: 'Unauthorized' },
      count: 1,
    });
    await stack.fault({
      match: 'clerk_token',
      action: 'status',
      status: 401,
      body: { errors: [{ code: 'session_revoked', message: echo, long_message: echo }] },
    });
    expect((await call('GET', '/v1/credits')).status).toBe(503);
    await call('GET', '/v1/accounts');
    await call('GET', '/health/ready');
    await stack.clearFaults();
  }
});

function randomUuid(): string {
  return crypto.randomUUID();
}
