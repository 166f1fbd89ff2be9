import { getHeapStatistics } from 'node:v8';
import { ConfigError, loadConfig } from '../config/load-config';

const BASE = {
  API_KEYS: 'ops:probe-key-0123456789',
  SUNO_COOKIE: '__client=eyJhbGciOiJSUzI1NiJ9.eyJpZCI6ImNsaWVudF8xIn0.c2ln',
};
const MB = 1024 * 1024;

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }

  return [];
}

describe('health settings', () => {
  it('default heap limit follows V8', () => {
    const config = loadConfig(BASE);

    const expectedMb = Math.floor((getHeapStatistics().heap_size_limit * 0.9) / MB);
    expect(config.health.maxHeapBytes).toBe(expectedMb * MB);
    expect(config.health.maxEventLoopDelayMs).toBe(2_000);
  });

  it('reads both variables', () => {
    const config = loadConfig({
      ...BASE,
      HEALTH_MAX_HEAP_MB: '300',
      HEALTH_MAX_EVENT_LOOP_DELAY_MS: '750',
    });

    expect(config.health.maxHeapBytes).toBe(300 * MB);
    expect(config.health.maxEventLoopDelayMs).toBe(750);
  });

  it('rejects invalid values', () => {
    const problems = problemsOf({
      ...BASE,
      HEALTH_MAX_HEAP_MB: '8',
      HEALTH_MAX_EVENT_LOOP_DELAY_MS: 'slow',
    });

    expect(problems).toEqual([
      'HEALTH_MAX_HEAP_MB must be at least 16',
      'HEALTH_MAX_EVENT_LOOP_DELAY_MS must be a number',
    ]);
  });
});
