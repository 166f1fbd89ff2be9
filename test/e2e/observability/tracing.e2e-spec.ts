import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import {
  InMemorySpanExporter,
  ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { addSpanProcessor, startTracing } from '../../../src/observability/tracing';
import { AccountsService } from '../../../src/session/accounts.service';
import { DEFAULT_ACCOUNT } from '../../emulator';
import {
  ACCOUNT_ID,
  API_KEY,
  CLIENT_ID,
  Stack,
  addFault,
  clearFaults,
  send,
  startStack,
} from './support';

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT_SPAN_ID = '00f067aa0ba902b7';

const exporter = new InMemorySpanExporter();
let removeProcessor: () => void;
let stack: Stack;

function spansOfTrace(traceId: string): ReadableSpan[] {
  return exporter.getFinishedSpans().filter((span) => span.spanContext().traceId === traceId);
}

function serverSpanOf(requestId: string): ReadableSpan {
  const span = exporter
    .getFinishedSpans()
    .find(
      (s) => s.kind === SpanKind.SERVER && s.attributes['suno_gateway.request_id'] === requestId,
    );
  if (!span) throw new Error(`no server span for request ${requestId}`);

  return span;
}

function childrenOf(parent: ReadableSpan): ReadableSpan[] {
  return exporter
    .getFinishedSpans()
    .filter((s) => s.parentSpanContext?.spanId === parent.spanContext().spanId);
}

beforeAll(async () => {
  startTracing({ NODE_ENV: 'test' });
  removeProcessor = addSpanProcessor(new SimpleSpanProcessor(exporter));
  stack = await startStack({
    env: { BREAKER_THRESHOLD: '2', BREAKER_OPEN_MS: '60000' },
    emulator: { generationS: 1 },
  });
});

afterAll(async () => {
  await stack?.close();
  removeProcessor?.();
  await exporter.shutdown();
});

afterEach(async () => {
  await clearFaults(stack.emulator);
});

describe('tracing', () => {
  it('correlates ids of a retried read', async () => {
    await addFault(stack.emulator, { match: 'billing', action: 'status', status: 503, count: 1 });

    const answer = await send(stack.baseUrl, '/v1/credits', {
      headers: { traceparent: `00-${TRACE_ID}-${PARENT_SPAN_ID}-01` },
    });

    expect(answer.status).toBe(200);
    const requestId = answer.headers['x-request-id'];
    expect(typeof requestId).toBe('string');

    const lines = stack.logs.forRequest(String(requestId));
    expect(lines.length).toBeGreaterThanOrEqual(2);
    for (const line of lines) expect(line.trace_id).toBe(TRACE_ID);
    const retry = lines.find((line) => line.event === 'upstream.retry');
    expect(retry).toBeDefined();
    const completed = lines.find((line) => line.msg === 'request completed');
    expect(completed).toMatchObject({
      level: 'info',
      route: '/v1/credits',
      status: 200,
      client: CLIENT_ID,
    });
    expect(typeof completed?.time).toBe('string');
    expect(typeof completed?.duration_ms).toBe('number');

    const server = serverSpanOf(String(requestId));
    expect(server.name).toBe('GET /v1/credits');
    expect(server.spanContext().traceId).toBe(TRACE_ID);
    expect(server.parentSpanContext?.spanId).toBe(PARENT_SPAN_ID);
    expect(server.attributes['http.route']).toBe('/v1/credits');
    expect(server.attributes['http.response.status_code']).toBe(200);
    expect(completed?.span_id).toBe(server.spanContext().spanId);

    const attempts = childrenOf(server)
      .filter((s) => s.kind === SpanKind.CLIENT)
      .sort(
        (a, b) =>
          Number(a.attributes['http.request.resend_count']) -
          Number(b.attributes['http.request.resend_count']),
      );
    expect(attempts.map((s) => s.attributes['http.request.resend_count'])).toEqual([0, 1]);
    for (const attempt of attempts) {
      expect(attempt.name).toBe('GET billing');
      expect(attempt.attributes['suno.operation']).toBe('billing');
      expect(attempt.attributes['suno.account']).toBe(ACCOUNT_ID);
    }
    expect(attempts[0]?.attributes['http.response.status_code']).toBe(503);
    expect(attempts[0]?.status.code).toBe(SpanStatusCode.ERROR);
    expect(attempts[1]?.attributes['http.response.status_code']).toBe(200);
  });

  it('echoes the caller request id', async () => {
    const answer = await send(stack.baseUrl, '/v1/accounts', {
      headers: { 'x-request-id': 'caller-req-42' },
    });

    expect(answer.status).toBe(200);
    expect(answer.headers['x-request-id']).toBe('caller-req-42');
    const line = stack.logs.forRequest('caller-req-42').find((l) => l.msg === 'request completed');
    expect(line).toMatchObject({ route: '/v1/accounts', status: 200 });
    expect(line?.trace_id).toMatch(/^[0-9a-f]{32}$/);
  });

  it('names unmatched requests by method only', async () => {
    const answer = await send(stack.baseUrl, '/no/such/route', {
      headers: { 'x-request-id': 'unmatched-1' },
    });

    expect(answer.status).toBe(404);
    const span = serverSpanOf('unmatched-1');
    expect(span.name).toBe('GET');
    expect(span.attributes['http.route']).toBeUndefined();
  });

  it('traces the token refresh with its Clerk calls', () => {
    const refresh = exporter.getFinishedSpans().find((s) => s.name === 'session.refresh_token');

    expect(refresh).toBeDefined();
    expect(refresh?.attributes['suno.account']).toBe(ACCOUNT_ID);
    const operations = childrenOf(refresh as ReadableSpan).map(
      (s) => s.attributes['suno.operation'],
    );
    expect(operations).toEqual(expect.arrayContaining(['clerk_client', 'clerk_token']));
  });

  it('traces a generation wait under the server span', async () => {
    const answer = await send(stack.baseUrl, '/v1/generations?wait=true&timeout_s=20', {
      body: { gpt_description_prompt: 'a calm song about tracing' },
      headers: { 'x-request-id': 'wait-1' },
    });

    expect(answer.status).toBe(200);
    const server = serverSpanOf('wait-1');
    expect(server.name).toBe('POST /v1/generations');
    const wait = childrenOf(server).find((s) => s.name === 'generation.wait');
    expect(wait).toBeDefined();
    expect(wait?.attributes['suno.generation_id']).toBe(answer.json.id);
    expect(wait?.attributes['suno.wait.result']).toBe('done');
  });

  it('traces the reconciliation of a lost submit', async () => {
    await addFault(stack.emulator, { match: 'generate', action: 'reset_after', count: 1 });

    const answer = await send(stack.baseUrl, '/v1/generations', {
      body: { gpt_description_prompt: 'a song whose answer was lost' },
      headers: { 'x-request-id': 'reconcile-1' },
    });

    expect([200, 202]).toContain(answer.status);
    const trace = spansOfTrace(serverSpanOf('reconcile-1').spanContext().traceId);
    const reconcile = trace.find((s) => s.name === 'generation.reconcile');
    expect(reconcile).toBeDefined();
    expect(reconcile?.attributes['suno.account']).toBe(ACCOUNT_ID);
  });

  it('records breaker transitions as span events', async () => {
    await addFault(stack.emulator, { match: 'billing', action: 'status', status: 503, count: 2 });

    const answer = await send(stack.baseUrl, '/v1/credits', {
      headers: { 'x-request-id': 'breaker-1' },
    });

    expect(answer.status).toBe(503);
    const events = serverSpanOf('breaker-1').events.filter(
      (e) => e.name === 'circuit_breaker.transition',
    );
    expect(events).toHaveLength(1);
    expect(events[0]?.attributes).toMatchObject({
      'suno.circuit_breaker.state': 'open',
      'suno.account': ACCOUNT_ID,
      'suno.upstream': 'studio',
    });
  });

  it('exports no secret in any span', async () => {
    const jwt = stack.app.get(AccountsService).get(ACCOUNT_ID)?.token?.jwt;
    await send(stack.baseUrl, '/v1/accounts', {
      headers: {
        cookie: DEFAULT_ACCOUNT.cookie,
        'x-api-key': API_KEY,
        'x-request-id': 'secrets-1',
      },
    });

    const spans = exporter.getFinishedSpans();
    expect(spans.length).toBeGreaterThan(0);
    expect(jwt).toBeDefined();
    const secrets = [API_KEY, DEFAULT_ACCOUNT.clientToken, DEFAULT_ACCOUNT.sessionId, String(jwt)];
    for (const span of spans) {
      const exported = JSON.stringify({
        name: span.name,
        attributes: span.attributes,
        events: span.events,
        status: span.status,
        resource: span.resource.attributes,
      });
      for (const secret of secrets) expect(exported).not.toContain(secret);
      expect(exported).not.toMatch(/eyJ[\w-]{4,}\.[\w-]{4,}\./);
      expect(exported).not.toMatch(/sess_[A-Za-z0-9]{6,}/);
    }
  });
});
