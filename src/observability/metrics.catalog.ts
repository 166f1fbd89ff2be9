/**
 * Every Prometheus metric the gateway exports. Dashboards, alert rules and their tests read
 * this list, so a name changed here must change there too. Names marked fixed in the
 * architecture contract: `http_server_request_duration_seconds`,
 * `suno_upstream_request_duration_seconds`, `suno_upstream_retries_total`,
 * `suno_circuit_breaker_state`, `suno_account_credits_remaining`,
 * `suno_session_token_expiry_timestamp_seconds`, `suno_generation_duration_seconds`.
 */

/** OpenTelemetry semantic-convention buckets for HTTP durations, in seconds. */
export const HTTP_DURATION_BUCKETS = [
  0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10,
];

/** Upstream calls: the same layout stretched to the 30 s submit timeout. */
export const UPSTREAM_DURATION_BUCKETS = [...HTTP_DURATION_BUCKETS, 15, 20, 30, 60];

/** Songs take 30–120 s upstream; the top buckets keep slow ones out of +Inf. */
export const GENERATION_DURATION_BUCKETS = [
  5, 10, 20, 30, 45, 60, 90, 120, 180, 240, 300, 450, 600,
];

export type MetricKind = 'counter' | 'gauge' | 'histogram';

export interface MetricSpec {
  name: string;
  kind: MetricKind;
  help: string;
  labels: readonly string[];
  buckets?: readonly number[];
  /** Latency histograms carry the trace id of a sample as an OpenMetrics exemplar. */
  exemplars?: boolean;
}

export const METRICS = {
  httpServerDuration: {
    name: 'http_server_request_duration_seconds',
    kind: 'histogram',
    help: 'Duration of HTTP server requests, by route template.',
    labels: ['http_request_method', 'http_route', 'http_response_status_code'],
    buckets: HTTP_DURATION_BUCKETS,
    exemplars: true,
  },
  upstreamDuration: {
    name: 'suno_upstream_request_duration_seconds',
    kind: 'histogram',
    help: 'Duration of each upstream attempt, by operation and outcome.',
    labels: ['operation', 'outcome'],
    buckets: UPSTREAM_DURATION_BUCKETS,
    exemplars: true,
  },
  upstreamRetries: {
    name: 'suno_upstream_retries_total',
    kind: 'counter',
    help: 'Upstream retries, by operation and the reason for the retry.',
    labels: ['operation', 'reason'],
  },
  upstreamGiveUps: {
    name: 'suno_upstream_give_ups_total',
    kind: 'counter',
    help: 'Logical upstream calls that failed after the retry policy gave up.',
    labels: ['operation', 'reason'],
  },
  circuitBreakerState: {
    name: 'suno_circuit_breaker_state',
    kind: 'gauge',
    help: 'Circuit breaker state per account and upstream: 0 closed, 1 half-open, 2 open.',
    labels: ['account', 'upstream'],
  },
  circuitBreakerTransitions: {
    name: 'suno_circuit_breaker_transitions_total',
    kind: 'counter',
    help: 'Circuit breaker state changes, by the state entered.',
    labels: ['account', 'upstream', 'state'],
  },
  bulkheadRejections: {
    name: 'suno_bulkhead_rejections_total',
    kind: 'counter',
    help: 'Generation requests rejected because the account had too many running.',
    labels: ['account'],
  },
  reconciliations: {
    name: 'suno_reconciliations_total',
    kind: 'counter',
    help: 'Reconciliations after an ambiguous submit, by result (adopted, resubmitted, unknown).',
    labels: ['result'],
  },
  accountCredits: {
    name: 'suno_account_credits_remaining',
    kind: 'gauge',
    help: 'Credits left on each account, as last read from billing.',
    labels: ['account'],
  },
  accountState: {
    name: 'suno_account_state',
    kind: 'gauge',
    help: 'Account state: 1 for the current state of each account, 0 for the others.',
    labels: ['account', 'state'],
  },
  tokenExpiry: {
    name: 'suno_session_token_expiry_timestamp_seconds',
    kind: 'gauge',
    help: 'Unix time at which the current session JWT of each account expires.',
    labels: ['account'],
  },
  tokenRefreshes: {
    name: 'suno_session_token_refreshes_total',
    kind: 'counter',
    help: 'Session JWT refreshes, by result (success, failure).',
    labels: ['account', 'result'],
  },
  generationDuration: {
    name: 'suno_generation_duration_seconds',
    kind: 'histogram',
    help: 'Time from submit until a generation reached a terminal status, by status.',
    labels: ['status'],
    buckets: GENERATION_DURATION_BUCKETS,
  },
  generationWaitDuration: {
    name: 'suno_generation_wait_duration_seconds',
    kind: 'histogram',
    help: 'Time a wait=true request spent waiting, by how the wait ended.',
    labels: ['result'],
    buckets: GENERATION_DURATION_BUCKETS,
  },
  degradedClips: {
    name: 'suno_degraded_clips_total',
    kind: 'counter',
    help: 'Finished clips whose lyrics carry the spoken warning that flagged accounts get, by account.',
    labels: ['account'],
  },
  generationsSubmitted: {
    name: 'suno_generations_submitted_total',
    kind: 'counter',
    help: 'Generations submitted upstream, by kind (custom, description, extend, concat).',
    labels: ['kind'],
  },
  inflightWaits: {
    name: 'suno_inflight_waits',
    kind: 'gauge',
    help: 'Requests currently waiting for a generation or lyrics to finish.',
    labels: [],
  },
} as const satisfies Record<string, MetricSpec>;

export type MetricKey = keyof typeof METRICS;

/** Prefix of the Node process metrics from prom-client's default collectors. */
export const PROCESS_METRIC_PREFIXES = ['process_', 'nodejs_'];
