/**
 * Upstream failures, injected with emulator faults, and the problem+json response each must
 * map to. Breakers are set out of reach so every row meets a closed circuit.
 */
import { DEFAULT_ACCOUNT } from '../emulator';
import {
  eventually,
  sleep,
  startStack,
  type FaultSpec,
  type GatewayResponse,
  type Stack,
} from './support/harness';
import { expectProblem } from './support/problem';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const HTML_PAGE =
  '<!DOCTYPE html><html><head><title>503 Service Unavailable</title></head><body><h1>Service Unavailable</h1></body></html>';
const SONG = {
  prompt: '[Verse]\nStatic on the radio tonight',
  title: 'Static',
  tags: 'lo-fi',
  mv: 'chirp-v3-5',
};

const ENV = {
  BREAKER_THRESHOLD: '1000',
  UPSTREAM_READ_TIMEOUT_MS: '300',
  UPSTREAM_SUBMIT_TIMEOUT_MS: '600',
  RETRY_BACKOFF_BASE_MS: '10',
  RETRY_BACKOFF_MAX_MS: '50',
  RETRY_BUDGET_MIN_RETRIES: '10000',
};

type Call = { method: 'GET' | 'POST'; path: string; body?: unknown };

const READ_CREDITS: Call = { method: 'GET', path: '/v1/credits' };
const GENERATE: Call = { method: 'POST', path: '/v1/generations', body: SONG };

interface FailureRow {
  name: string;
  faults?: FaultSpec[];
  /** Changes to the emulator's default account before the call. */
  account?: Record<string, unknown>;
  call: Call;
  status: number;
  code: string;
  check?: (response: GatewayResponse) => void;
  /** Exact upstream requests per emulator route that the call may cause. */
  upstreamCalls?: Record<string, number>;
  /** A 429 closes the gateway's rate-limit gate for the account, so the row waits until it opens. */
  pauseAfterMs?: number;
}

const ROWS: FailureRow[] = [
  {
    name: 'studio 401 that persists after a refresh',
    faults: [{ match: 'billing', action: 'status', status: 401, body: { detail: 'Unauthorized' } }],
    call: READ_CREDITS,
    status: 503,
    code: 'ACCOUNT_SESSION_INVALID',
    check: (response) => expect(response.body.upstream_status).toBe(401),
    upstreamCalls: { billing: 2, clerk_token: 1 },
  },
  {
    name: 'generate 402',
    faults: [
      {
        match: 'generate',
        action: 'status',
        status: 402,
        body: { detail: 'Insufficient credits' },
      },
    ],
    call: GENERATE,
    upstreamCalls: { generate: 1 },
    status: 402,
    code: 'INSUFFICIENT_CREDITS',
    check: (response) => expect(response.body.detail).toContain('Insufficient credits'),
  },
  {
    name: 'account out of credits in the emulator',
    account: { credits: 5 },
    call: GENERATE,
    upstreamCalls: { generate: 1 },
    status: 402,
    code: 'INSUFFICIENT_CREDITS',
  },
  {
    name: 'generate 422 naming a new required field',
    faults: [
      {
        match: 'generate',
        action: 'status',
        status: 422,
        body: {
          detail: [{ type: 'missing', loc: ['body', 'transaction_uuid'], msg: 'Field required' }],
        },
      },
    ],
    call: GENERATE,
    upstreamCalls: { generate: 1 },
    status: 502,
    code: 'UPSTREAM_REJECTED',
    check: (response) => expect(response.body.detail).toContain('body.transaction_uuid'),
  },
  {
    name: 'generate 429 with Retry-After',
    faults: [
      {
        match: 'generate',
        action: 'status',
        status: 429,
        body: { detail: 'Too many running jobs' },
        retry_after: 1,
      },
    ],
    call: GENERATE,
    upstreamCalls: { generate: 1 },
    status: 429,
    code: 'RATE_LIMITED',
    check: (response) => {
      expect(response.headers.get('retry-after')).toBe('1');
      expect(response.body.retry_after).toBe(1);
    },
    pauseAfterMs: 1_100,
  },
  {
    name: 'billing 429 with Retry-After',
    faults: [{ match: 'billing', action: 'status', status: 429, retry_after: 1 }],
    call: READ_CREDITS,
    status: 429,
    code: 'RATE_LIMITED',
    check: (response) =>
      expect(Number(response.headers.get('retry-after'))).toBeGreaterThanOrEqual(1),
    pauseAfterMs: 1_100,
  },
  {
    name: 'billing 500',
    faults: [{ match: 'billing', action: 'status', status: 500 }],
    call: READ_CREDITS,
    status: 502,
    code: 'UPSTREAM_ERROR',
    check: (response) => expect(response.body.upstream_status).toBe(500),
  },
  {
    name: 'billing 502',
    faults: [{ match: 'billing', action: 'status', status: 502 }],
    call: READ_CREDITS,
    status: 502,
    code: 'UPSTREAM_ERROR',
    check: (response) => expect(response.body.upstream_status).toBe(502),
  },
  {
    name: 'billing 503 with JSON',
    faults: [{ match: 'billing', action: 'status', status: 503 }],
    call: READ_CREDITS,
    status: 503,
    code: 'UPSTREAM_UNAVAILABLE',
  },
  {
    name: 'billing 503 with an HTML page',
    faults: [
      {
        match: 'billing',
        action: 'status',
        status: 503,
        body: HTML_PAGE,
        content_type: 'text/html; charset=utf-8',
      },
    ],
    call: READ_CREDITS,
    status: 503,
    code: 'UPSTREAM_UNAVAILABLE',
    check: (response) => expect(response.text).not.toContain('Service Unavailable</h1>'),
  },
  {
    name: 'generate 500 without detail',
    faults: [{ match: 'generate', action: 'status', status: 500, body: { message: 'x' } }],
    call: GENERATE,
    upstreamCalls: { generate: 1 },
    status: 502,
    code: 'UPSTREAM_ERROR',
    check: (response) => expect(response.body.upstream_status).toBe(500),
  },
  {
    name: 'billing 200 with invalid JSON',
    faults: [
      {
        match: 'billing',
        action: 'status',
        status: 200,
        body: '{"total_credits_left": 4',
        content_type: 'application/json',
      },
    ],
    call: READ_CREDITS,
    status: 502,
    code: 'UPSTREAM_BAD_RESPONSE',
  },
  {
    name: 'billing 200 with an empty body',
    faults: [{ match: 'billing', action: 'status', status: 200, body: '' }],
    call: READ_CREDITS,
    status: 502,
    code: 'UPSTREAM_BAD_RESPONSE',
  },
  {
    name: 'feed 200 with an HTML page',
    faults: [
      { match: 'feed', action: 'status', status: 200, body: HTML_PAGE, content_type: 'text/html' },
    ],
    call: { method: 'GET', path: '/v1/clips?ids=00000000-0000-4000-8000-000000000001' },
    status: 502,
    code: 'UPSTREAM_BAD_RESPONSE',
  },
  {
    name: 'generate 200 with no clips',
    faults: [{ match: 'generate', action: 'status', status: 200, body: { clips: [] } }],
    call: GENERATE,
    upstreamCalls: { generate: 1 },
    status: 502,
    code: 'UPSTREAM_BAD_RESPONSE',
  },
  {
    name: 'billing connection reset',
    faults: [{ match: 'billing', action: 'reset_before' }],
    call: READ_CREDITS,
    status: 502,
    code: 'UPSTREAM_ERROR',
  },
  {
    name: 'billing that hangs',
    faults: [{ match: 'billing', action: 'hang' }],
    call: READ_CREDITS,
    status: 504,
    code: 'UPSTREAM_TIMEOUT',
  },
  {
    name: 'generate that hangs',
    faults: [{ match: 'generate', action: 'hang' }],
    call: GENERATE,
    upstreamCalls: { generate: 1 },
    status: 504,
    code: 'UPSTREAM_TIMEOUT',
    check: (response) => expect(response.body.generation_id).toMatch(UUID),
  },
  {
    name: 'Clerk 500 during a forced refresh',
    faults: [
      {
        match: 'billing',
        action: 'status',
        status: 401,
        body: { detail: 'Unauthorized' },
        count: 1,
      },
      { match: 'clerk_token', action: 'status', status: 500 },
    ],
    call: READ_CREDITS,
    status: 502,
    code: 'UPSTREAM_AUTH_UNREACHABLE',
  },
];

describe('failure mapping', () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack({ env: ENV });
  });

  afterAll(async () => {
    await stack?.close();
  });

  it.each(ROWS.map((row) => [row.name, row] as const))('%s', async (_name, row) => {
    if (row.account) await stack.upsertEmulatorAccount({ id: DEFAULT_ACCOUNT.id, ...row.account });
    for (const fault of row.faults ?? []) await stack.fault(fault);
    const before = await stack.stats();

    const response = await stack.request(row.call.method, row.call.path, { body: row.call.body });

    try {
      expectProblem(response, row.status, row.code);
      row.check?.(response);
      const after = await stack.stats();
      const expectedCalls = { generate: 0, ...row.upstreamCalls };
      for (const [route, count] of Object.entries(expectedCalls)) {
        expect({ route, calls: after.requests[route] - before.requests[route] }).toEqual({
          route,
          calls: count,
        });
      }
    } finally {
      await stack.resetUpstream();
      if (row.pauseAfterMs) await sleep(row.pauseAfterMs);
      await restoreAccount(stack);
    }
  });
});

describe('captcha gate', () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack({ env: ENV });
  });

  afterAll(async () => {
    await stack?.close();
  });

  it('generate 422 Token validation failed is CAPTCHA_REQUIRED', async () => {
    await stack.patchEmulatorConfig({ captcha_required: true });

    const response = await stack.request('POST', '/v1/generations', { body: SONG });

    expectProblem(response, 503, 'CAPTCHA_REQUIRED');
    expect(Number(response.headers.get('retry-after'))).toBeGreaterThan(0);
    const accounts = await stack.request('GET', '/v1/accounts');
    expect(accounts.body.accounts[0].state).toBe('captcha_required');

    // The account cools down, so a second request must not reach generate again.
    const before = (await stack.stats()).requests.generate;
    const again = await stack.request('POST', '/v1/generations', { body: SONG });
    expectProblem(again, 503, 'CAPTCHA_REQUIRED');
    expect((await stack.stats()).requests.generate).toBe(before);
  });
});

/**
 * Brings the account back to `active` after a row: a credits read re-admits a `no_credits`
 * account, and a background refresh ends `auth_unreachable`.
 */
async function restoreAccount(stack: Stack): Promise<void> {
  await eventually(
    async () => {
      const credits = await stack.request('GET', '/v1/credits');
      const accounts = await stack.request('GET', '/v1/accounts');

      return credits.status === 200 && accounts.body.accounts[0].state === 'active'
        ? true
        : undefined;
    },
    'the account to be active again',
    5_000,
    100,
  );
}
