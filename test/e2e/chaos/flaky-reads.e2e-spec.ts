/**
 * Reads against an upstream that fails now and then, and against one that fails every time.
 * Retries must hide the first and must not multiply the second.
 */
import { Rig, mapLimit, requestDelta, startRig } from './support';

jest.setTimeout(60_000);

const READ_ROUTES = ['feed', 'clip', 'billing'];

/** Creates two generations and waits until they finish, so no clip polling runs meanwhile. */
async function makeClips(rig: Rig): Promise<string[]> {
  const ids: string[] = [];
  for (const title of ['flaky one', 'flaky two']) {
    const answer = await rig.gateway.request('/v1/generations?wait=true&timeout_s=20', {
      body: { prompt: `${title} words`, title, tags: 'chaos' },
    });
    if (answer.status !== 200)
      throw new Error(`setup create answered ${answer.status}: ${answer.text}`);
    ids.push(...answer.json.clips.map((clip: { id: string }) => clip.id));
  }

  return ids;
}

/** Returns the path of the n-th read of the mix: a batch of clips, one clip, or the credits. */
function readPath(n: number, clipIds: string[]): string {
  switch (n % 3) {
    case 0:
      return `/v1/clips?ids=${clipIds.join(',')}`;
    case 1:
      return `/v1/clips/${clipIds[n % clipIds.length]}`;
    default:
      return '/v1/credits';
  }
}

describe('flaky reads', () => {
  let rig: Rig;
  let clipIds: string[];

  beforeAll(async () => {
    rig = await startRig({
      env: {
        RETRY_MAX_ATTEMPTS: '3',
        RETRY_BACKOFF_BASE_MS: '10',
        RETRY_BACKOFF_MAX_MS: '100',
        RETRY_BUDGET_RATIO: '0.1',
        RETRY_BUDGET_MIN_RETRIES: '5',
        BREAKER_THRESHOLD: '5',
        BREAKER_OPEN_MS: '500',
      },
    });
    clipIds = await makeClips(rig);
  });

  afterAll(async () => {
    await rig?.close();
  });

  it('serves 99.9% of 1,000 flaky reads', async () => {
    for (const [index, match] of READ_ROUTES.entries()) {
      // Resets are tried first, so 1% of requests drop and 5% of the rest get 503.
      await rig.control.addFault({ match, action: 'reset_before', rate: 0.01, seed: 11 + index });
      await rig.control.addFault({
        match,
        action: 'status',
        status: 503,
        rate: 0.05,
        seed: 21 + index,
      });
    }
    const before = await rig.control.stats();

    const answers = await mapLimit(
      Array.from({ length: 1000 }, (_, n) => n),
      8,
      (n) => rig.gateway.request(readPath(n, clipIds)),
    );

    const after = await rig.control.stats();
    await rig.control.clearFaults();
    const succeeded = answers.filter((answer) => answer.status === 200).length;
    const upstreamCalls = requestDelta(before, after, READ_ROUTES);
    const faultsHit = after.faults_hit - before.faults_hit;
    console.log(
      `flaky reads: ${succeeded}/1000 succeeded, ${upstreamCalls} upstream calls for 1000 logical calls, ${faultsHit} faults hit`,
    );
    expect(succeeded).toBeGreaterThanOrEqual(999);
    expect(upstreamCalls).toBeGreaterThanOrEqual(1000);
    expect(upstreamCalls).toBeLessThan(1100);
    expect(faultsHit).toBeGreaterThan(30);
    for (const failure of answers.filter((answer) => answer.status !== 200)) {
      expect(failure.headers['content-type']).toContain('application/problem+json');
    }
  });
});

describe('total read outage', () => {
  const LOGICAL_CALLS = 300;
  const MIN_RETRIES = 2;
  // The upstream fails every read, so the ids need not exist; no setup traffic is needed.
  const clipIds = ['0b8e6f0e-1d55-4a57-9d4e-7d0c1f3a2b01', '0b8e6f0e-1d55-4a57-9d4e-7d0c1f3a2b02'];
  let rig: Rig;

  beforeAll(async () => {
    rig = await startRig({
      env: {
        RETRY_MAX_ATTEMPTS: '3',
        RETRY_BACKOFF_BASE_MS: '1',
        RETRY_BACKOFF_MAX_MS: '5',
        RETRY_BUDGET_RATIO: '0.1',
        RETRY_BUDGET_MIN_RETRIES: String(MIN_RETRIES),
        RETRY_BUDGET_WINDOW_MS: '60000',
        // High enough that the breaker never opens, so only the retry budget limits traffic.
        BREAKER_THRESHOLD: '1000',
      },
    });
  });

  afterAll(async () => {
    await rig?.close();
  });

  it('caps retries at 10% in an outage', async () => {
    for (const match of READ_ROUTES)
      await rig.control.addFault({ match, action: 'status', status: 503 });
    const before = await rig.control.stats();

    const answers = await mapLimit(
      Array.from({ length: LOGICAL_CALLS }, (_, n) => n),
      8,
      (n) => rig.gateway.request(readPath(n, clipIds)),
    );

    const after = await rig.control.stats();
    await rig.control.clearFaults();
    const upstreamCalls = requestDelta(before, after, READ_ROUTES);
    console.log(`total outage: ${upstreamCalls} upstream calls for ${LOGICAL_CALLS} logical calls`);
    for (const answer of answers) {
      expect(answer.status).toBe(503);
      expect(answer.json.code).toBe('UPSTREAM_UNAVAILABLE');
    }
    // The budget allows retries of 10% of all the account's calls in its window, and the two
    // session calls made at start are in the window too.
    const earlierCalls = before.requests.clerk_client + before.requests.clerk_token;
    const allowedRetries = Math.max(MIN_RETRIES, 0.1 * (LOGICAL_CALLS + earlierCalls));
    expect(upstreamCalls).toBeGreaterThanOrEqual(LOGICAL_CALLS);
    expect(upstreamCalls).toBeLessThanOrEqual(LOGICAL_CALLS + allowedRetries);
  });
});
