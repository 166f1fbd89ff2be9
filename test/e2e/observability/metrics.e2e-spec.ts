import { randomUUID } from 'node:crypto';
import {
  GENERATION_DURATION_BUCKETS,
  HTTP_DURATION_BUCKETS,
  METRICS,
} from '../../../src/observability/metrics.catalog';
import { startTracing } from '../../../src/observability/tracing';
import {
  ACCOUNT_ID,
  Sample,
  Stack,
  UUID_PATTERN,
  addFault,
  parseSamples,
  sampleValue,
  scrape,
  send,
  startStack,
} from './support';

const OPENMETRICS_ACCEPT =
  'application/openmetrics-text;version=1.0.0;q=0.5,text/plain;version=0.0.4;q=0.3,*/*;q=0.2';
const PROCESS_METRICS = [
  'process_cpu_user_seconds_total',
  'process_resident_memory_bytes',
  'nodejs_eventloop_lag_seconds',
  'nodejs_gc_duration_seconds',
  'nodejs_heap_size_used_bytes',
];

let stack: Stack;
let before: Sample[];
let after: Sample[];
let text: string;
const unknownClipId = randomUUID();

function bucketBounds(samples: Sample[], name: string, labels: Record<string, string>): string[] {
  return samples
    .filter(
      (s) =>
        s.name === `${name}_bucket` && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
    )
    .map((s) => s.labels.le ?? '');
}

beforeAll(async () => {
  // Exemplars carry trace ids, which exist only with the SDK started; no endpoint, no export.
  startTracing({ NODE_ENV: 'test' });
  stack = await startStack({ emulator: { generationS: 1 } });
  before = parseSamples((await scrape(stack.baseUrl)).text);

  // Three injected 503s on billing, then success. RETRY_MAX_ATTEMPTS stays at its default
  // of 3 attempts per call, so the first call retries twice before its third attempt
  // succeeds and the second call retries once: three retries in all. The default retry
  // budget allows 5 retries per window whatever the call count, so none is refused.
  await addFault(stack.emulator, { match: 'billing', action: 'status', status: 503, count: 2 });
  expect((await send(stack.baseUrl, '/v1/credits')).status).toBe(200);
  await addFault(stack.emulator, { match: 'billing', action: 'status', status: 503, count: 1 });
  expect((await send(stack.baseUrl, '/v1/credits')).status).toBe(200);

  expect((await send(stack.baseUrl, `/v1/clips/${unknownClipId}`)).status).toBe(404);
  expect((await send(stack.baseUrl, `/no/such/${unknownClipId}`)).status).toBe(404);
  const generation = await send(stack.baseUrl, '/v1/generations?wait=true&timeout_s=20', {
    body: { gpt_description_prompt: 'a song to be measured' },
  });
  expect(generation.status).toBe(200);

  text = (await scrape(stack.baseUrl)).text;
  after = parseSamples(text);
});

afterAll(async () => {
  await stack?.close();
});

describe('metrics', () => {
  it('exposes catalog and process metrics', () => {
    for (const spec of Object.values(METRICS))
      expect(text).toContain(`# TYPE ${spec.name} ${spec.kind}`);
    for (const name of PROCESS_METRICS) expect(text).toContain(`# TYPE ${name} `);
  });

  it('labels HTTP durations by route template only', () => {
    const routes = new Set(
      after
        .filter((s) => s.name === 'http_server_request_duration_seconds_count')
        .map((s) => s.labels.http_route),
    );

    expect(routes).toContain('/v1/credits');
    expect(routes).toContain('/v1/clips/:id');
    expect(routes).toContain('unmatched');
    expect(routes).toContain('/v1/generations');
    expect(text).not.toContain(unknownClipId);
    for (const sample of after)
      for (const value of Object.values(sample.labels)) expect(value).not.toMatch(UUID_PATTERN);
  });

  it('counts requests by method, route and status', () => {
    const labels = {
      http_request_method: 'GET',
      http_route: '/v1/credits',
      http_response_status_code: '200',
    };

    expect(
      sampleValue(after, 'http_server_request_duration_seconds_count', labels) -
        sampleValue(before, 'http_server_request_duration_seconds_count', labels),
    ).toBe(2);
    expect(
      sampleValue(after, 'http_server_request_duration_seconds_count', {
        http_route: '/v1/clips/:id',
        http_response_status_code: '404',
      }),
    ).toBe(1);
    expect(
      sampleValue(after, 'http_server_request_duration_seconds_count', {
        http_route: 'unmatched',
        http_response_status_code: '404',
      }),
    ).toBe(1);
  });

  it('uses the OpenTelemetry HTTP buckets', () => {
    const bounds = bucketBounds(after, 'http_server_request_duration_seconds', {
      http_route: '/v1/credits',
    });

    expect(bounds).toEqual([...HTTP_DURATION_BUCKETS.map(String), '+Inf']);
    expect(HTTP_DURATION_BUCKETS).toEqual([
      0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10,
    ]);
  });

  it('buckets generation durations up to 600 s', () => {
    const bounds = bucketBounds(after, 'suno_generation_duration_seconds', { status: 'complete' });

    expect(bounds).toEqual([...GENERATION_DURATION_BUCKETS.map(String), '+Inf']);
    expect(Math.max(...GENERATION_DURATION_BUCKETS)).toBe(600);
    expect(
      sampleValue(after, 'suno_generation_duration_seconds_count', { status: 'complete' }),
    ).toBe(1);
  });

  it('counts each upstream retry and attempt outcome', () => {
    const retries = { operation: 'billing', reason: 'status_503' };

    expect(
      sampleValue(after, 'suno_upstream_retries_total', retries) -
        sampleValue(before, 'suno_upstream_retries_total', retries),
    ).toBe(3);
    expect(
      sampleValue(after, 'suno_upstream_request_duration_seconds_count', {
        operation: 'billing',
        outcome: 'server_error',
      }),
    ).toBe(3);
    expect(
      sampleValue(after, 'suno_upstream_request_duration_seconds_count', {
        operation: 'billing',
        outcome: 'success',
      }),
    ).toBe(2);
    expect(sampleValue(after, 'suno_upstream_give_ups_total', { operation: 'billing' })).toBe(0);
    expect(
      sampleValue(after, 'suno_circuit_breaker_state', { account: ACCOUNT_ID, upstream: 'studio' }),
    ).toBe(0);
  });

  it('reports the account gauges', () => {
    const nowS = Date.now() / 1000;

    expect(sampleValue(after, 'suno_account_credits_remaining', { account: ACCOUNT_ID })).toBe(500);
    expect(sampleValue(after, 'suno_account_state', { account: ACCOUNT_ID, state: 'active' })).toBe(
      1,
    );
    expect(
      sampleValue(after, 'suno_account_state', { account: ACCOUNT_ID, state: 'expired' }),
    ).toBe(0);
    expect(
      sampleValue(after, 'suno_session_token_expiry_timestamp_seconds', { account: ACCOUNT_ID }),
    ).toBeGreaterThan(nowS);
  });

  it('adds exemplars for OpenMetrics scrapers', async () => {
    const answer = await scrape(stack.baseUrl, OPENMETRICS_ACCEPT);

    expect(answer.headers['content-type']).toMatch(/^application\/openmetrics-text/);
    expect(answer.text.endsWith('# EOF\n')).toBe(true);
    const samples = parseSamples(answer.text);
    for (const name of [
      'http_server_request_duration_seconds_bucket',
      'suno_upstream_request_duration_seconds_bucket',
    ]) {
      const withExemplar = samples.filter((s) => s.name === name && s.exemplar !== undefined);
      expect(withExemplar.length).toBeGreaterThan(0);
      for (const sample of withExemplar)
        expect(sample.exemplar).toMatch(/^\{trace_id="[0-9a-f]{32}"\} \S+ \S+$/);
    }
    expect(
      sampleValue(samples, 'suno_upstream_retries_total', {
        operation: 'billing',
        reason: 'status_503',
      }),
    ).toBe(3);
  });

  it('keeps text counter names after OpenMetrics', async () => {
    await scrape(stack.baseUrl, OPENMETRICS_ACCEPT);
    const answer = await scrape(stack.baseUrl);

    expect(answer.headers['content-type']).toMatch(/^text\/plain/);
    expect(answer.text).toContain('# TYPE suno_upstream_retries_total counter');
    expect(answer.text).not.toContain(' # {');
    expect(
      sampleValue(parseSamples(answer.text), 'suno_upstream_retries_total', {
        operation: 'billing',
        reason: 'status_503',
      }),
    ).toBe(3);
  });
});
