/**
 * Submits whose response is lost: the upstream created the songs but the connection dropped,
 * or the response came after the gateway's submit timeout. Generation is not idempotent
 * upstream, so the gateway must never create a second batch for one logical create.
 */
import { Answer, Rig, eventually, startRig } from './support';

jest.setTimeout(30_000);

const SUBMIT_TIMEOUT_MS = 500;
const CREATES = 50;

interface CreateBody {
  prompt: string;
  title: string;
  tags: string;
}

function distinctBody(label: string, index: number): CreateBody {
  return {
    prompt: `${label} verse ${index}, la la la`,
    title: `${label} ${index}`,
    tags: 'chaos pop',
  };
}

function expectOwnClips(
  answer: { clips: Array<{ lyrics: string | null; title: string | null }> },
  body: CreateBody,
): void {
  expect(answer.clips).toHaveLength(2);
  for (const clip of answer.clips) {
    expect(clip.lyrics).toBe(body.prompt);
    expect(clip.title).toBe(body.title);
  }
}

function clipIds(answers: Array<{ clips: Array<{ id: string }> }>): string[] {
  return answers.flatMap((answer) => answer.clips.map((clip) => clip.id));
}

describe('ambiguous submits', () => {
  let rig: Rig;

  beforeAll(async () => {
    rig = await startRig({
      env: {
        UPSTREAM_SUBMIT_TIMEOUT_MS: String(SUBMIT_TIMEOUT_MS),
        BULKHEAD_LIMIT: '500',
        BULKHEAD_QUEUE: '0',
        // Reconciliation reads the feed; an open breaker would only hide what this spec measures.
        BREAKER_THRESHOLD: '1000',
      },
      emulator: { generationS: 2, runningJobCap: 1000 },
    });
  });

  afterAll(async () => {
    await rig?.close();
  });

  afterEach(async () => {
    await rig.control.clearFaults();
  });

  it('adopts clips after a dropped connection', async () => {
    await rig.control.addFault({ match: 'generate', action: 'reset_after' });
    const before = await rig.control.stats();
    const bodies = Array.from({ length: CREATES }, (_, i) => distinctBody('reset', i));

    const answers = await Promise.all(
      bodies.map((body) => rig.gateway.request('/v1/generations', { body })),
    );

    const settled = await settle(rig, answers);
    console.log(
      `reset submits: ${settled.adoptedAtOnce} of ${CREATES} got their clips in the response and ${CREATES - settled.adoptedAtOnce} returned 504`,
    );
    // A 504 here means the gateway's own submit timeout fired first, on a busy machine.
    expect(settled.adoptedAtOnce).toBeGreaterThan(0);
    settled.generations.forEach((generation, i) => expectOwnClips(generation, bodies[i]));
    expect(new Set(clipIds(settled.generations)).size).toBe(2 * CREATES);
    const after = await rig.control.stats();
    expect(after.generations - before.generations).toBe(CREATES);
    expect(after.requests.generate - before.requests.generate).toBe(CREATES);
  });

  it('returns 504 then finds slow clips', async () => {
    // The upstream responds 1.5 s after the gateway gave up, so the immediate reconciliation
    // read normally comes too early to see the clips.
    await rig.control.addFault({
      match: 'generate',
      action: 'delay',
      delay_ms: SUBMIT_TIMEOUT_MS * 4,
    });
    const before = await rig.control.stats();
    const bodies = Array.from({ length: CREATES }, (_, i) => distinctBody('slow', i));

    const answers = await Promise.all(
      bodies.map((body) => rig.gateway.request('/v1/generations', { body })),
    );

    const settled = await settle(rig, answers);
    console.log(
      `slow submits: ${CREATES - settled.adoptedAtOnce} of ${CREATES} returned 504 and ${settled.adoptedAtOnce} got their clips in the response`,
    );
    expect(settled.adoptedAtOnce).toBeLessThan(CREATES);
    settled.generations.forEach((generation, i) => expectOwnClips(generation, bodies[i]));
    expect(new Set(clipIds(settled.generations)).size).toBe(2 * CREATES);
    const after = await rig.control.stats();
    expect(after.generations - before.generations).toBe(CREATES);
    expect(after.requests.generate - before.requests.generate).toBe(CREATES);
  });

  it('never resubmits without a feed read', async () => {
    await rig.control.addFault({ match: 'generate', action: 'reset_after', count: 1 });
    // Every feed read fails until the response is in, so the reconciliation after the reset fails.
    await rig.control.addFault({ match: 'feed', action: 'status', status: 503 });
    const before = await rig.control.stats();
    const body = distinctBody('unreadable feed', 1);

    const answer = await rig.gateway.request('/v1/generations', { body });
    await rig.control.clearFaults();

    expect(answer.status).toBe(504);
    expect(answer.json.code).toBe('UPSTREAM_TIMEOUT');
    const generation = await eventually(
      () => generationWithClips(rig, answer.json.generation_id),
      10_000,
      100,
    );
    expectOwnClips(generation, body);
    const after = await rig.control.stats();
    expect(after.requests.generate - before.requests.generate).toBe(1);
    expect(after.generations - before.generations).toBe(1);
  });

  it('adopts identical batches once each', async () => {
    // Half the submits lose their response, so reconciliation runs while identical submits succeed.
    await rig.control.addFault({ match: 'generate', action: 'reset_after', rate: 0.5, seed: 7 });
    const before = await rig.control.stats();
    const body = { prompt: 'the same words every time', title: 'twin', tags: 'chaos twin' };

    const answers = await Promise.all(
      Array.from({ length: 20 }, () => rig.gateway.request('/v1/generations', { body })),
    );

    const settled = await settle(rig, answers);
    for (const generation of settled.generations) expectOwnClips(generation, body);
    const ids = clipIds(settled.generations);
    expect(ids).toHaveLength(40);
    expect(new Set(ids).size).toBe(40);
    const after = await rig.control.stats();
    expect(after.generations - before.generations).toBe(20);
    expect(after.faults_hit - before.faults_hit).toBeGreaterThan(0);
  });

  it('creates once for sequential replays', async () => {
    const before = await rig.control.stats();
    const body = distinctBody('sequential key', 1);
    const headers = { 'idempotency-key': 'chaos-sequential-key' };

    const first = await rig.gateway.request('/v1/generations', { body, headers });
    const replays: Answer[] = [];
    for (let i = 0; i < 99; i++)
      replays.push(await rig.gateway.request('/v1/generations', { body, headers }));

    expect(first.status).toBe(202);
    expect(first.headers['idempotent-replayed']).toBeUndefined();
    for (const replay of replays) {
      expect(replay.status).toBe(202);
      expect(replay.headers['idempotent-replayed']).toBe('true');
      expect(replay.json.id).toBe(first.json.id);
    }
    const after = await rig.control.stats();
    expect(after.generations - before.generations).toBe(1);
  });

  it('creates once for concurrent replays', async () => {
    // The first request holds the key for 300 ms, so the others arrive while it runs.
    await rig.control.addFault({ match: 'generate', action: 'delay', delay_ms: 300 });
    const before = await rig.control.stats();
    const body = distinctBody('concurrent key', 1);
    const headers = { 'idempotency-key': 'chaos-concurrent-key' };

    const answers = await Promise.all(
      Array.from({ length: 100 }, () => rig.gateway.request('/v1/generations', { body, headers })),
    );

    const created = answers.filter((a) => a.status === 202);
    const conflicts = answers.filter((a) => a.status === 409);
    expect(created.length + conflicts.length).toBe(100);
    expect(created.filter((a) => a.headers['idempotent-replayed'] === undefined)).toHaveLength(1);
    expect(new Set(created.map((a) => a.json.id)).size).toBe(1);
    expect(conflicts.length).toBeGreaterThan(0);
    for (const conflict of conflicts) {
      expect(conflict.json.code).toBe('IDEMPOTENCY_CONFLICT');
      expect(conflict.headers['retry-after']).toBeDefined();
    }
    const after = await rig.control.stats();
    expect(after.generations - before.generations).toBe(1);
    expect(after.requests.generate - before.requests.generate).toBe(1);
  });

  it('replays a timed-out create', async () => {
    await rig.control.addFault({
      match: 'generate',
      action: 'delay',
      delay_ms: SUBMIT_TIMEOUT_MS * 2,
    });
    const before = await rig.control.stats();
    const body = distinctBody('timed-out key', 1);
    const headers = { 'idempotency-key': 'chaos-timed-out-key' };

    const first = await rig.gateway.request('/v1/generations', { body, headers });
    const replay = await rig.gateway.request('/v1/generations', { body, headers });

    expect(first.status).toBe(504);
    expect(replay.status).toBe(504);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.headers['content-type']).toContain('application/problem+json');
    expect(replay.json.generation_id).toBe(first.json.generation_id);
    const generation = await eventually(
      () => generationWithClips(rig, first.json.generation_id),
      10_000,
      100,
    );
    expectOwnClips(generation, body);
    const after = await rig.control.stats();
    expect(after.requests.generate - before.requests.generate).toBe(1);
    expect(after.generations - before.generations).toBe(1);
  });

  it('rejects a key reused with another body', async () => {
    const headers = { 'idempotency-key': 'chaos-reused-key' };
    const first = await rig.gateway.request('/v1/generations', {
      body: distinctBody('reused key', 1),
      headers,
    });
    const before = await rig.control.stats();

    const reused = await rig.gateway.request('/v1/generations', {
      body: distinctBody('reused key', 2),
      headers,
    });

    expect(first.status).toBe(202);
    expect(reused.status).toBe(422);
    expect(reused.headers['content-type']).toContain('application/problem+json');
    expect(reused.json.code).toBe('IDEMPOTENCY_KEY_REUSED');
    const after = await rig.control.stats();
    expect(after.requests.generate - before.requests.generate).toBe(0);
  });
});

/**
 * Checks that each create returned 202 with its clips or 504 UPSTREAM_TIMEOUT with a
 * generation id, and waits until every 504's generation shows its clips.
 */
async function settle(
  rig: Rig,
  answers: Answer[],
): Promise<{ generations: any[]; adoptedAtOnce: number }> {
  for (const answer of answers) {
    expect([202, 504]).toContain(answer.status);
    if (answer.status !== 504) continue;
    expect(answer.headers['content-type']).toContain('application/problem+json');
    expect(answer.json.code).toBe('UPSTREAM_TIMEOUT');
    expect(typeof answer.json.generation_id).toBe('string');
  }
  const generations = await Promise.all(
    answers.map((answer) =>
      answer.status === 202
        ? answer.json
        : eventually(() => generationWithClips(rig, answer.json.generation_id), 10_000, 100),
    ),
  );

  return { generations, adoptedAtOnce: answers.filter((answer) => answer.status === 202).length };
}

async function generationWithClips(rig: Rig, id: string): Promise<any | undefined> {
  const answer = await rig.gateway.request(`/v1/generations/${id}`);
  if (answer.status !== 200 && answer.status !== 202)
    throw new Error(`GET /v1/generations/${id} answered ${answer.status}: ${answer.text}`);

  return answer.json.clips.length > 0 ? answer.json : undefined;
}
