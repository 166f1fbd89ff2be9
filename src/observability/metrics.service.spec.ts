import { METRICS } from './metrics.catalog';
import { MetricsService, prefersOpenMetrics } from './metrics.service';

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';

describe('prefersOpenMetrics', () => {
  it.each([
    [
      'Prometheus 2 with exemplars',
      'application/openmetrics-text;version=1.0.0;q=0.5,application/openmetrics-text;version=0.0.1;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2',
      true,
    ],
    ['OpenMetrics alone', 'application/openmetrics-text', true],
    ['a tie, which goes to OpenMetrics', 'text/plain, application/openmetrics-text', true],
    ['text ranked first', 'text/plain;version=0.0.4;q=1,application/openmetrics-text;q=0.5', false],
    ['OpenMetrics refused', 'application/openmetrics-text;q=0,text/plain', false],
    ['text only', 'text/plain;version=0.0.4', false],
    ['any type', '*/*', false],
    ['no header', undefined, false],
  ])('decides for %s', (_case, accept, expected) => {
    expect(prefersOpenMetrics(accept)).toBe(expected);
  });
});

describe('MetricsService', () => {
  let sut: MetricsService;

  beforeEach(() => {
    sut = new MetricsService();
    sut.m.upstreamRetries.inc({ operation: 'feed', reason: 'status_503' });
    sut.observe(
      sut.m.httpServerDuration,
      { http_request_method: 'GET', http_route: '/v1/credits', http_response_status_code: 200 },
      0.042,
      TRACE_ID,
    );
  });

  it('renders every catalog metric in both formats', async () => {
    const text = await sut.render('text/plain');
    const openMetrics = await sut.render('application/openmetrics-text');

    for (const spec of Object.values(METRICS)) {
      expect(text.body).toContain(`# TYPE ${spec.name} ${spec.kind}`);
      expect(openMetrics.body).toContain(`# TYPE ${spec.name.replace(/_total$/, '')} ${spec.kind}`);
    }
  });

  it('puts the trace id exemplar in OpenMetrics only', async () => {
    const text = await sut.render(undefined);
    const openMetrics = await sut.render('application/openmetrics-text');

    expect(text.contentType).toMatch(/^text\/plain/);
    expect(text.body).not.toContain(TRACE_ID);
    expect(openMetrics.contentType).toMatch(/^application\/openmetrics-text/);
    expect(openMetrics.body).toContain(
      `http_server_request_duration_seconds_bucket{le="0.05",http_request_method="GET",http_route="/v1/credits",http_response_status_code="200"} 1 # {trace_id="${TRACE_ID}"} 0.042`,
    );
    expect(openMetrics.body.endsWith('# EOF\n')).toBe(true);
  });

  it('counts the same samples in both formats', async () => {
    const text = await sut.render(undefined);
    const openMetrics = await sut.render('application/openmetrics-text');

    const count = /http_server_request_duration_seconds_count\{[^}]*\} (\d+)/;
    expect(count.exec(text.body)?.[1]).toBe('1');
    expect(count.exec(openMetrics.body)?.[1]).toBe('1');
  });

  it('keeps counter names across overlapping renders', async () => {
    const renders = await Promise.all([
      sut.render('application/openmetrics-text'),
      sut.render('text/plain'),
      sut.render('application/openmetrics-text'),
      sut.render('text/plain'),
    ]);

    for (const text of [renders[1], renders[3], await sut.render('text/plain')]) {
      expect(text?.body).toContain('# TYPE suno_upstream_retries_total counter');
      expect(text?.body).toContain(
        'suno_upstream_retries_total{operation="feed",reason="status_503"} 1',
      );
    }
    expect(renders[0]?.body).toContain(
      'suno_upstream_retries_total{operation="feed",reason="status_503"} 1',
    );
  });
});
