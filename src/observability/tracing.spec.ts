import { SpanStatusCode } from '@opentelemetry/api';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  Span,
  SpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { REDACTED } from './redaction';
import { planTraceExport, scrubSpan } from './tracing';

describe('planTraceExport', () => {
  it.each([
    ['no endpoint', {}, { exporter: 'none', reason: 'no OTLP endpoint is set' }],
    [
      'a base endpoint',
      { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' },
      { exporter: 'otlp', protocol: 'http/protobuf', url: 'http://127.0.0.1:4318/v1/traces' },
    ],
    [
      'a base endpoint with a slash',
      { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/' },
      { exporter: 'otlp', protocol: 'http/protobuf', url: 'http://collector:4318/v1/traces' },
    ],
    [
      'a traces endpoint, used as is',
      {
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://ignored:4318',
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://collector:4318/custom',
      },
      { exporter: 'otlp', protocol: 'http/protobuf', url: 'http://collector:4318/custom' },
    ],
    [
      'JSON over HTTP',
      { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' },
      { exporter: 'otlp', protocol: 'http/json', url: 'http://c:4318/v1/traces' },
    ],
    [
      'a traces protocol over the general one',
      {
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318',
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/protobuf',
      },
      { exporter: 'otlp', protocol: 'http/protobuf', url: 'http://c:4318/v1/traces' },
    ],
    [
      'gRPC, endpoint as is',
      { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4317', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' },
      { exporter: 'otlp', protocol: 'grpc', url: 'http://c:4317' },
    ],
    [
      'exporter none',
      { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_TRACES_EXPORTER: 'none' },
      { exporter: 'none', reason: 'OTEL_TRACES_EXPORTER is none' },
    ],
    ['exporter console', { OTEL_TRACES_EXPORTER: 'console' }, { exporter: 'console' }],
  ])('plans %s', (_case, env, expected) => {
    expect(planTraceExport(env)).toEqual(expected);
  });

  it('rejects an unknown protocol, naming the variable', () => {
    expect(() =>
      planTraceExport({
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318',
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/xml',
      }),
    ).toThrow(/OTEL_EXPORTER_OTLP_PROTOCOL=http\/xml/);
  });

  it('names the traces protocol variable when it is wrong', () => {
    expect(() =>
      planTraceExport({
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318',
        OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'thrift',
      }),
    ).toThrow(/OTEL_EXPORTER_OTLP_TRACES_PROTOCOL=thrift/);
  });

  it('rejects an unknown exporter, naming the variable', () => {
    expect(() => planTraceExport({ OTEL_TRACES_EXPORTER: 'zipkin' })).toThrow(
      /OTEL_TRACES_EXPORTER=zipkin/,
    );
  });
});

describe('scrubSpan', () => {
  const SESSION_JWT = 'eyJhbGciOiJSUzI1NiJ9.eyJzaWQiOiJzZXNzX21hcmtlciJ9.c2Vzc2lvbi1zaWduYXR1cmU';
  const SESSION_ID = 'sess_2qMarkerSessionId7x';

  function setup() {
    const exporter = new InMemorySpanExporter();
    const scrubber: SpanProcessor = {
      onStart: () => undefined,
      onEnding: (span: Span) => scrubSpan(span),
      onEnd: () => undefined,
      forceFlush: async () => undefined,
      shutdown: async () => undefined,
    };
    const provider = new BasicTracerProvider({
      spanProcessors: [scrubber, new SimpleSpanProcessor(exporter)],
    });

    return { tracer: provider.getTracer('spec'), exporter };
  }

  it('masks credentials in every exported part of a span', () => {
    const { tracer, exporter } = setup();

    const span = tracer.startSpan(`POST /v1/client/sessions/${SESSION_ID}/tokens`, {
      attributes: {
        'url.path': `/v1/client/sessions/${SESSION_ID}/tokens`,
        'http.request.header.authorization': ['Bearer key-1'],
        'http.request.header.cookie': 'ajs_anonymous_id=1',
        'suno.notes': [`seen ${SESSION_JWT}`, 'plain'],
        'http.request.resend_count': 1,
      },
    });
    span.addEvent('exception', { 'exception.message': `refresh failed for ${SESSION_JWT}` });
    span.setStatus({ code: SpanStatusCode.ERROR, message: `Clerk revoked ${SESSION_ID}` });
    span.end();

    const [exported] = exporter.getFinishedSpans();
    expect(exported?.name).toBe(`POST /v1/client/sessions/sess_${REDACTED}/tokens`);
    expect(exported?.attributes).toEqual({
      'url.path': `/v1/client/sessions/sess_${REDACTED}/tokens`,
      'http.request.header.authorization': REDACTED,
      'http.request.header.cookie': REDACTED,
      'suno.notes': [`seen ${REDACTED}`, 'plain'],
      'http.request.resend_count': 1,
    });
    expect(exported?.events[0]?.attributes).toEqual({
      'exception.message': `refresh failed for ${REDACTED}`,
    });
    expect(exported?.status).toEqual({
      code: SpanStatusCode.ERROR,
      message: `Clerk revoked sess_${REDACTED}`,
    });
  });

  it('leaves spans without secrets unchanged', () => {
    const { tracer, exporter } = setup();

    tracer
      .startSpan('GET /v1/clips/:id', {
        attributes: { 'http.route': '/v1/clips/:id', 'suno.account': 'main' },
      })
      .end();

    expect(exporter.getFinishedSpans()[0]?.attributes).toEqual({
      'http.route': '/v1/clips/:id',
      'suno.account': 'main',
    });
  });
});
