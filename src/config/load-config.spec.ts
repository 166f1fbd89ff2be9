import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from './load-config';
import { sanitizeCookie } from './cookie';

const COOKIE =
  '__client=eyJhbGciOiJSUzI1NiJ9.eyJpZCI6ImNsaWVudF8xIn0.c2lnbmF0dXJl; __client_uat=1733300000';
const VALID = { API_KEYS: 'ci:0123456789abcdef', SUNO_COOKIE: COOKIE };

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }

  return [];
}

describe('loadConfig', () => {
  it('applies defaults', () => {
    const config = loadConfig(VALID);

    expect(config.server.port).toBe(3000);
    expect(config.upstream.baseUrl).toBe('https://studio-api.prod.suno.com');
    expect(config.upstream.authUrl).toBe('https://auth.suno.com');
    expect(config.resilience.maxAttempts).toBe(3);
    expect(config.auth.apiKeys).toEqual([{ id: 'ci', key: '0123456789abcdef' }]);
    expect(config.accounts[0].clientToken).toMatch(/^eyJ/);
  });

  it('lists every bad variable at once', () => {
    const problems = problemsOf({
      ...VALID,
      PORT: 'http',
      RETRY_BUDGET_RATIO: '2',
      SUNO_BASE_URL: 'ftp://x',
      LOG_LEVEL: 'loud',
    });

    expect(problems).toHaveLength(4);
    expect(problems.join('\n')).toMatch(/PORT/);
    expect(problems.join('\n')).toMatch(/RETRY_BUDGET_RATIO/);
    expect(problems.join('\n')).toMatch(/SUNO_BASE_URL/);
    expect(problems.join('\n')).toMatch(/LOG_LEVEL/);
  });

  it('reports schema and cross-variable problems in one pass', () => {
    const problems = problemsOf({
      API_KEYS: 'short',
      SUNO_COOKIE: 'x=1',
      PORT: 'abc',
      RETRY_MAX_ATTEMPTS: '9',
    });

    expect(problems.join('\n')).toMatch(/PORT/);
    expect(problems.join('\n')).toMatch(/RETRY_MAX_ATTEMPTS/);
    expect(problems.join('\n')).toMatch(/API_KEYS entry 1 must be at least 8/);
    expect(problems.join('\n')).toMatch(/SUNO_COOKIE has no __client/);
  });

  it('requires API keys unless auth is disabled', () => {
    expect(problemsOf({ SUNO_COOKIE: COOKIE }).join()).toMatch(/API_KEYS is required/);
    expect(problemsOf({ SUNO_COOKIE: COOKIE, AUTH_DISABLED: 'true' })).toEqual([]);
  });

  it('rejects placeholder keys in production', () => {
    expect(problemsOf({ ...VALID, NODE_ENV: 'production', API_KEYS: 'demo-key' }).join()).toMatch(
      /placeholder/,
    );
  });

  it('rejects a cookie without __client and never echoes it', () => {
    const problems = problemsOf({ ...VALID, SUNO_COOKIE: '__cf_bm=SECRETVALUE; other=1' });

    expect(problems.join()).toMatch(/no __client cookie/);
    expect(problems.join()).not.toMatch(/SECRETVALUE/);
  });

  it('rejects a wait budget above its cap', () => {
    expect(
      problemsOf({ ...VALID, WAIT_BUDGET_MS: '60000', WAIT_MAX_BUDGET_MS: '30000' }).join(),
    ).toMatch(/WAIT_BUDGET_MS/);
  });

  it('disables a bad account of a pool file but keeps the rest', () => {
    const dir = mkdtempSync(join(tmpdir(), 'accounts-'));
    const file = join(dir, 'accounts.yaml');
    writeFileSync(file, `- id: good\n  cookie: "${COOKIE}"\n- id: bad\n  cookie: "__cf_bm=x"\n`);
    const config = loadConfig({ API_KEYS: VALID.API_KEYS, SUNO_ACCOUNTS_FILE: file });

    expect(config.accounts.map((a) => a.id)).toEqual(['good', 'bad']);
    expect(config.accounts[0].invalidReason).toBeUndefined();
    expect(config.accounts[1].invalidReason).toMatch(/__client/);
  });
});

describe('sanitizeCookie', () => {
  it('trims quotes, newlines and a Cookie: prefix', () => {
    const result = sanitizeCookie(`  "Cookie: ${COOKIE}\n"  `);

    expect(result).toEqual({
      ok: true,
      cookie: COOKIE,
      clientToken: expect.stringMatching(/^eyJ/),
    });
  });

  it('names the offset of a character that cannot go in a header', () => {
    const result = sanitizeCookie('__client=abc…def');

    const reason = result.ok ? '' : result.reason;

    expect(result.ok).toBe(false);
    expect(reason).toMatch(/offset 12/);
    expect(reason).not.toMatch(/abc/);
  });
});
