/**
 * A 429 with `Retry-After: 2` from the studio: the gateway must send nothing more for that
 * account until the 2 s are over, and a caller that cannot wait that long gets the 429 at once.
 */
import { Rig, recordRequestTimes, startRig } from './support';

jest.setTimeout(30_000);

const STUDIO_ROUTES = new Set([
  'generate',
  'feed',
  'clip',
  'billing',
  'lyrics_submit',
  'lyrics_get',
  'concat',
  'stems',
  'aligned_lyrics',
  'captcha_check',
]);
const RETRY_AFTER_MS = 2_000;

describe('Retry-After from the studio', () => {
  let rig: Rig;

  beforeAll(async () => {
    rig = await startRig({
      env: {
        // The default deadline (3 × the read timeout) is 4.5 s, so a caller without a header waits.
        UPSTREAM_READ_TIMEOUT_MS: '1500',
        RETRY_MAX_ATTEMPTS: '3',
        RETRY_BACKOFF_BASE_MS: '10',
        RETRY_BACKOFF_MAX_MS: '100',
      },
    });
  });

  afterAll(async () => {
    await rig?.close();
  });

  it('holds studio calls until Retry-After ends', async () => {
    const times = recordRequestTimes(rig.emulator);
    await rig.control.addFault({
      match: 'billing',
      action: 'status',
      status: 429,
      retry_after: 2,
      count: 1,
    });
    const impatient = { 'x-request-timeout-ms': '500' };

    const first = await rig.gateway.request('/v1/credits', { headers: impatient });
    const limitedAt = times.requests.find((r) => r.route === 'billing')?.atMs ?? Number.NaN;
    const [patient, readDuringBlock, createDuringBlock] = await Promise.all([
      rig.gateway.request('/v1/credits'),
      rig.gateway.request('/v1/clips/5d0b8a61-0c7e-4a4f-9a59-3f7f0c2d1e10', { headers: impatient }),
      rig.gateway.request('/v1/generations', {
        headers: impatient,
        body: { prompt: 'held back', title: 'held', tags: 'chaos' },
      }),
    ]);
    times.stop();

    for (const answer of [first, readDuringBlock, createDuringBlock]) {
      expect(answer.status).toBe(429);
      expect(answer.headers['content-type']).toContain('application/problem+json');
      expect(answer.json.code).toBe('RATE_LIMITED');
      expect(Number(answer.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      expect(Number(answer.headers['retry-after'])).toBeLessThanOrEqual(2);
      // "At once": far less than the 2 s block and less than the caller's own 500 ms.
      expect(answer.elapsedMs).toBeLessThan(300);
    }
    expect(patient.status).toBe(200);
    const studioCalls = times.requests.filter((r) => STUDIO_ROUTES.has(r.route));
    expect(studioCalls.map((r) => r.route)).toEqual(['billing', 'billing']);
    console.log(
      `Retry-After: the next studio call came ${studioCalls[1].atMs - limitedAt} ms after the 429`,
    );
    expect(studioCalls[1].atMs - limitedAt).toBeGreaterThanOrEqual(RETRY_AFTER_MS);
  });

  it('rejects an invalid X-Request-Timeout-Ms', async () => {
    for (const value of ['abc', '0', '-5', '1.5', '600001']) {
      const answer = await rig.gateway.request('/v1/credits', {
        headers: { 'x-request-timeout-ms': value },
      });

      expect(answer.status).toBe(400);
      expect(answer.headers['content-type']).toContain('application/problem+json');
      expect(answer.json.code).toBe('VALIDATION_FAILED');
    }
  });
});
