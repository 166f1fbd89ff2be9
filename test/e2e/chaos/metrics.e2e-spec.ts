/**
 * The resilience metrics an on-call engineer reads during an incident, scraped from
 * `GET /metrics` while faults are injected.
 */
import { GATEWAY_ACCOUNT, Rig, eventually, metricValue, sleep, startRig } from './support';

jest.setTimeout(30_000);

const OPEN_MS = 1_000;
const BREAKER = { account: GATEWAY_ACCOUNT, upstream: 'studio' };

describe('resilience metrics', () => {
  let rig: Rig;

  beforeAll(async () => {
    rig = await startRig({
      env: {
        RETRY_MAX_ATTEMPTS: '3',
        RETRY_BUDGET_MIN_RETRIES: '100',
        BREAKER_THRESHOLD: '5',
        BREAKER_OPEN_MS: String(OPEN_MS),
        UPSTREAM_SUBMIT_TIMEOUT_MS: '300',
      },
      emulator: { generationS: 2 },
    });
  });

  afterAll(async () => {
    await rig?.close();
  });

  afterEach(async () => {
    await rig.control.clearFaults();
  });

  it('counts retries of a recovered read', async () => {
    const labels = { operation: 'billing', reason: 'status_503' };
    await rig.control.addFault({ match: 'billing', action: 'status', status: 503, count: 2 });
    const before = await metricValue(rig.gateway, 'suno_upstream_retries_total', labels);

    const answer = await rig.gateway.request('/v1/credits');

    expect(answer.status).toBe(200);
    expect(await metricValue(rig.gateway, 'suno_upstream_retries_total', labels)).toBe(before + 2);
  });

  it('counts a give-up after three 503s', async () => {
    // RETRY_MAX_ATTEMPTS allows at most 3 attempts, so the third 503 ends the first read.
    const retries = { operation: 'billing', reason: 'status_503' };
    const giveUps = { operation: 'billing', reason: 'max_attempts' };
    await rig.control.addFault({ match: 'billing', action: 'status', status: 503, count: 3 });
    const retriesBefore = await metricValue(rig.gateway, 'suno_upstream_retries_total', retries);
    const giveUpsBefore = await metricValue(rig.gateway, 'suno_upstream_give_ups_total', giveUps);

    const failed = await rig.gateway.request('/v1/credits');
    const served = await rig.gateway.request('/v1/credits');

    expect(failed.status).toBe(503);
    expect(served.status).toBe(200);
    expect(await metricValue(rig.gateway, 'suno_upstream_retries_total', retries)).toBe(
      retriesBefore + 2,
    );
    expect(await metricValue(rig.gateway, 'suno_upstream_give_ups_total', giveUps)).toBe(
      giveUpsBefore + 1,
    );
  });

  it('shows breaker state open and closed', async () => {
    await rig.control.addFault({ match: 'billing', action: 'status', status: 503 });
    const opensBefore = await metricValue(rig.gateway, 'suno_circuit_breaker_transitions_total', {
      ...BREAKER,
      state: 'open',
    });

    let answer = await rig.gateway.request('/v1/credits');
    for (let i = 0; i < 5 && answer.json.code !== 'CIRCUIT_OPEN'; i++)
      answer = await rig.gateway.request('/v1/credits');

    expect(answer.json.code).toBe('CIRCUIT_OPEN');
    expect(await metricValue(rig.gateway, 'suno_circuit_breaker_state', BREAKER)).toBe(2);
    expect(
      await metricValue(rig.gateway, 'suno_circuit_breaker_transitions_total', {
        ...BREAKER,
        state: 'open',
      }),
    ).toBe(opensBefore + 1);

    await rig.control.clearFaults();
    await sleep(OPEN_MS + 50);
    expect((await rig.gateway.request('/v1/credits')).status).toBe(200);
    expect(await metricValue(rig.gateway, 'suno_circuit_breaker_state', BREAKER)).toBe(0);
  });

  it('counts reconciliations by result', async () => {
    const count = (result: string) =>
      metricValue(rig.gateway, 'suno_reconciliations_total', { result });
    const adoptedBefore = await count('adopted');
    const unknownBefore = await count('unknown');

    await rig.control.addFault({ match: 'generate', action: 'reset_after', count: 1 });
    const dropped = await rig.gateway.request('/v1/generations', {
      body: { prompt: 'dropped answer', title: 'dropped', tags: 'chaos' },
    });
    expect(dropped.status).toBe(202);
    expect(await count('adopted')).toBe(adoptedBefore + 1);

    await rig.control.addFault({ match: 'generate', action: 'delay', delay_ms: 600, count: 1 });
    const slow = await rig.gateway.request('/v1/generations', {
      body: { prompt: 'late answer', title: 'late', tags: 'chaos' },
    });
    expect(slow.status).toBe(504);
    expect(await count('unknown')).toBe(unknownBefore + 1);
    await eventually(
      async () => ((await count('adopted')) === adoptedBefore + 2 ? true : undefined),
      5_000,
    );
  });
});
