/**
 * Upstream calls through a forward proxy (UPSTREAM_PROXY_URL), as users behind region blocks
 * or corporate egress need, with a small counting proxy on 127.0.0.1.
 */
import { ConfigError, loadConfig } from '../../src/config/load-config';
import { DEFAULT_ACCOUNT } from '../emulator';
import { startForwardProxy, type CountingServer } from './support/cases-support';
import { startStack, type Stack } from './support/harness';
import { expectProblem } from './support/problem';

jest.setTimeout(30_000);

const SONG = {
  prompt: '[Verse]\nBorders drawn in chalk',
  title: 'Chalk',
  tags: 'post-punk',
  mv: 'chirp-v3-5',
};

describe('forward proxy', () => {
  let proxy: CountingServer;
  let stack: Stack;

  beforeAll(async () => {
    proxy = await startForwardProxy();
    stack = await startStack({
      emulator: { generationS: 1 },
      env: {
        UPSTREAM_PROXY_URL: proxy.url,
        BREAKER_THRESHOLD: '3',
        BREAKER_OPEN_MS: '60000',
        RETRY_BUDGET_MIN_RETRIES: '100',
      },
    });
  });

  afterAll(async () => {
    await stack?.close();
    await proxy?.close();
  });

  it('proxies every Clerk and studio call', async () => {
    const created = await stack.request('POST', '/v1/generations?wait=true', { body: SONG });
    const credits = await stack.request('GET', '/v1/credits');

    expect(created.status).toBe(200);
    expect(credits.status).toBe(200);
    const stats = await stack.stats();
    const upstreamRequests = Object.values(stats.requests).reduce((sum, n) => sum + n, 0);
    expect(stats.requests.clerk_client).toBeGreaterThan(0);
    expect(stats.requests.generate).toBe(1);
    // Every request the emulator counted came through the proxy, with an absolute URL.
    expect(proxy.requests).toHaveLength(upstreamRequests);
    for (const line of proxy.requests)
      expect(line).toMatch(new RegExp(`^(GET|POST) ${stack.emulator.url}/`));
  });

  it('proxy down returns 503, then opens breaker', async () => {
    await proxy.close();
    const before = await stack.stats();

    const first = await stack.request('GET', '/v1/credits');
    const second = await stack.request('GET', '/v1/credits');

    expectProblem(first, 503, 'UPSTREAM_UNAVAILABLE');
    expectProblem(second, 503, 'CIRCUIT_OPEN');
    expect((await stack.stats()).requests).toEqual(before.requests);
  });

  it('rejects a proxy for https upstreams', () => {
    const env = {
      API_KEYS: 'proxy-test-key-0001',
      SUNO_COOKIE: DEFAULT_ACCOUNT.cookie,
      UPSTREAM_PROXY_URL: 'http://127.0.0.1:3128',
    };

    expect(() =>
      loadConfig({
        ...env,
        SUNO_BASE_URL: 'http://127.0.0.1:3100',
        SUNO_AUTH_URL: 'http://127.0.0.1:3100',
      }),
    ).not.toThrow();
    let message = '';
    try {
      loadConfig(env);
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      message = (err as Error).message;
    }
    expect(message).toContain('UPSTREAM_PROXY_URL');
    expect(message).toContain('https');
  });
});
