/**
 * An upstream (or a proxy in front of it) that responds with HTML, nothing, or broken JSON.
 * None of it may reach the client, and each such response counts as a failure for the breaker.
 */
import { Rig, requestDelta, sleep, startRig } from './support';

jest.setTimeout(30_000);

const THRESHOLD = 5;
const OPEN_MS = 300;
const HTML_PAGE =
  '<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body><h1>upstream-proxy says no</h1></body></html>';

interface BadAnswer {
  name: string;
  status: number;
  body: string;
  contentType: string;
  /** Code the client gets while the breaker is still closed. */
  code: string;
}

const BAD_ANSWERS: BadAnswer[] = [
  {
    name: 'an HTML page with 200',
    status: 200,
    body: HTML_PAGE,
    contentType: 'text/html',
    code: 'UPSTREAM_BAD_RESPONSE',
  },
  {
    name: 'an HTML page with 503',
    status: 503,
    body: HTML_PAGE,
    contentType: 'text/html; charset=utf-8',
    code: 'UPSTREAM_UNAVAILABLE',
  },
  {
    name: 'an empty body with 200',
    status: 200,
    body: '',
    contentType: 'application/json',
    code: 'UPSTREAM_BAD_RESPONSE',
  },
  {
    name: 'invalid JSON with 200',
    status: 200,
    body: '{"total_credits_left": 4',
    contentType: 'application/json',
    code: 'UPSTREAM_BAD_RESPONSE',
  },
  {
    name: 'an empty body with 502',
    status: 502,
    body: '',
    contentType: 'text/plain',
    code: 'UPSTREAM_ERROR',
  },
];

describe('bad upstream answers', () => {
  let rig: Rig;

  beforeAll(async () => {
    rig = await startRig({
      env: {
        BREAKER_THRESHOLD: String(THRESHOLD),
        BREAKER_OPEN_MS: String(OPEN_MS),
        RETRY_MAX_ATTEMPTS: '3',
        RETRY_BUDGET_MIN_RETRIES: '1000',
      },
    });
  });

  afterAll(async () => {
    await rig?.close();
  });

  afterEach(async () => {
    // Heal, then wait out the open interval so the next case starts with a closed breaker.
    await rig.control.clearFaults();
    await sleep(OPEN_MS + 50);
    expect((await rig.gateway.request('/v1/credits')).status).toBe(200);
  });

  it.each(BAD_ANSWERS)('hides $name and opens the breaker', async (bad) => {
    await rig.control.addFault({
      match: 'billing',
      action: 'status',
      status: bad.status,
      body: bad.body,
      content_type: bad.contentType,
    });
    const before = await rig.control.stats();

    const answers = [];
    while (answers.length < 10 && answers[answers.length - 1]?.json?.code !== 'CIRCUIT_OPEN') {
      answers.push(await rig.gateway.request('/v1/credits'));
    }

    const after = await rig.control.stats();
    expect(answers[answers.length - 1].json.code).toBe('CIRCUIT_OPEN');
    expect(requestDelta(before, after, ['billing'])).toBeLessThanOrEqual(THRESHOLD);
    expect(answers[0].json.code).toBe(bad.code);
    for (const answer of answers) {
      expect(answer.status).toBeGreaterThanOrEqual(502);
      expect(answer.headers['content-type']).toContain('application/problem+json');
      expect(answer.text).not.toMatch(/<html|<!doctype|upstream-proxy says no/i);
      expect(answer.text).not.toContain('"total_credits_left": 4');
      expect(answer.text).not.toContain('undefined');
      expect(typeof answer.json.request_id).toBe('string');
    }
  });

  it('hides HTML returned to a submit', async () => {
    await rig.control.addFault({
      match: 'generate',
      action: 'status',
      status: 200,
      body: HTML_PAGE,
      content_type: 'text/html',
    });

    const answer = await rig.gateway.request('/v1/generations', {
      body: { prompt: 'html please', title: 'html', tags: 'chaos' },
    });

    expect(answer.status).toBe(502);
    expect(answer.headers['content-type']).toContain('application/problem+json');
    expect(answer.json.code).toBe('UPSTREAM_BAD_RESPONSE');
    expect(answer.text).not.toMatch(/<html|<!doctype|upstream-proxy says no/i);
  });
});
