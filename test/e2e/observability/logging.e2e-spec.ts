import http from 'node:http';
import { Writable } from 'node:stream';
import type { DestinationStream } from 'pino';
import { AccountsService } from '../../../src/session/accounts.service';
import { DEFAULT_ACCOUNT } from '../../emulator';
import {
  ACCOUNT_ID,
  API_KEY,
  CLIENT_ID,
  LogCapture,
  Stack,
  addFault,
  scrape,
  send,
  startStack,
} from './support';

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `probe` every 20 ms until it returns a value other than undefined, or `ms` pass. */
async function waitFor<T>(probe: () => T | undefined, ms: number): Promise<T | undefined> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = probe();
    if (value !== undefined || Date.now() >= deadline) return value;
    await sleep(20);
  }
}

describe('request logging', () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack({ env: { LOG_LEVEL: 'debug' } });
  });

  afterAll(async () => {
    await stack?.close();
  });

  it('writes one line per request with its ids', async () => {
    const answer = await send(stack.baseUrl, '/v1/clips/0b5a1c1e-8c4f-4a43-9d0e-5d2b6f1f7a10', {
      headers: { 'x-request-id': 'one-line-1' },
    });

    expect(answer.status).toBe(404);
    const completed = stack.logs
      .forRequest('one-line-1')
      .filter((line) => line.msg === 'request completed');
    expect(completed).toHaveLength(1);
    expect(completed[0]).toMatchObject({
      level: 'info',
      request_id: 'one-line-1',
      account: ACCOUNT_ID,
      client: CLIENT_ID,
      method: 'GET',
      route: '/v1/clips/:id',
      status: 404,
      code: 'NOT_FOUND',
    });
    expect(Date.parse(completed[0]?.time)).not.toBeNaN();
    expect(completed[0]?.duration_ms).toBeGreaterThan(0);
  });

  it('logs a failed request once with its error', async () => {
    await addFault(stack.emulator, { match: 'billing', action: 'status', status: 500, count: 1 });

    const answer = await send(stack.baseUrl, '/v1/credits', {
      headers: { 'x-request-id': 'failure-1' },
    });

    expect(answer.status).toBe(502);
    const failed = stack.logs
      .forRequest('failure-1')
      .filter((line) => line.msg === 'request failed');
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({
      level: 'error',
      status: 502,
      code: 'UPSTREAM_ERROR',
      route: '/v1/credits',
    });
    expect(failed[0]?.err).toMatchObject({
      type: 'UpstreamError',
      message: 'billing returned HTTP 500',
      status: 500,
    });
    expect(failed[0]?.err.stack).toContain('UpstreamError: billing returned HTTP 500');
    expect(
      stack.logs.forRequest('failure-1').filter((line) => line.context === 'ProblemFilter'),
    ).toHaveLength(0);
  });

  it('leaves probes and scrapes unlogged', async () => {
    const linesBefore = stack.logs.lines.length;

    for (const path of ['/health/live', '/health/ready', '/health/startup']) {
      expect((await send(stack.baseUrl, path, { anonymous: true })).status).toBe(200);
    }
    expect((await scrape(stack.baseUrl)).status).toBe(200);

    const added = stack.logs.lines.slice(linesBefore);
    expect(
      added.filter((line) => /^\/(health|metrics)/.test(String(line.route ?? line.path ?? ''))),
    ).toEqual([]);
  });

  it('logs a request that the client abandoned', async () => {
    const request = http.request(new URL('/v1/generations?wait=true&timeout_s=1', stack.baseUrl), {
      method: 'POST',
      agent: false,
      headers: {
        authorization: `Bearer ${API_KEY}`,
        'content-type': 'application/json',
        'x-request-id': 'abandoned-1',
      },
    });
    request.on('error', () => undefined);
    request.end(JSON.stringify({ gpt_description_prompt: 'a song nobody waits for' }));
    // Long enough for the submit to finish and the wait to begin.
    await sleep(300);
    request.destroy();

    const line = await waitFor(
      () =>
        stack.logs.forRequest('abandoned-1').find((l) => l.msg === 'request aborted by the client'),
      3_000,
    );
    expect(line).toMatchObject({ level: 'info', status: 499, route: '/v1/generations' });
    // The handler responds once its 1 s wait budget ends, and that response must not add a second line.
    await sleep(1_500);
    expect(stack.logs.forRequest('abandoned-1').filter((l) => l.status !== undefined)).toHaveLength(
      1,
    );
  });

  it('keeps credentials out of every line', async () => {
    const jwt = stack.app.get(AccountsService).get(ACCOUNT_ID)?.token?.jwt;
    const marker = `__client=${DEFAULT_ACCOUNT.clientToken}; __session=${jwt}`;
    await addFault(stack.emulator, {
      match: 'billing',
      action: 'status',
      status: 500,
      count: 1,
      body: JSON.stringify({ detail: `rejected ${marker} for ${DEFAULT_ACCOUNT.sessionId}` }),
    });

    await send(stack.baseUrl, '/v1/credits', {
      headers: { cookie: marker, 'x-request-id': 'secrets-1' },
    });
    await send(stack.baseUrl, '/v1/lyrics', {
      body: {
        prompt: `lyrics quoting ${jwt} and ${DEFAULT_ACCOUNT.sessionId}`,
        token: jwt,
        session_id: DEFAULT_ACCOUNT.sessionId,
      },
      headers: { cookie: marker, 'set-cookie': marker },
    });
    await send(stack.baseUrl, '/v1/accounts', {
      headers: { authorization: `Bearer ${API_KEY}-wrong` },
    });

    expect(jwt).toBeDefined();
    const output = stack.logs.raw.join('\n');
    expect(stack.logs.lines.filter((line) => line.unparsed !== undefined)).toEqual([]);
    for (const secret of [
      API_KEY,
      DEFAULT_ACCOUNT.clientToken,
      DEFAULT_ACCOUNT.sessionId,
      String(jwt),
    ]) {
      expect(output).not.toContain(secret);
    }
    expect(output).not.toMatch(/eyJ[\w-]{4,}\.[\w-]{4,}\./);
    expect(output).not.toMatch(/sess_[A-Za-z0-9]{6,}/);
  });
});

/** A destination whose every write throws, like a stdout that was closed under the process. */
class ThrowingDestination implements DestinationStream {
  attempts = 0;

  write(): void {
    this.attempts += 1;
    throw new Error('EBADF: bad file descriptor, write');
  }
}

/** Builds a Node stream that fails every write asynchronously and emits `error`, as a broken pipe does. */
function failingStream(): Writable & { attempts: number } {
  const stream = new Writable({
    write(_chunk, _encoding, callback) {
      stream.attempts += 1;
      callback(Object.assign(new Error('EPIPE: broken pipe, write'), { code: 'EPIPE' }));
    },
  }) as Writable & { attempts: number };
  stream.attempts = 0;

  return stream;
}

describe('a failing log destination', () => {
  it.each([
    ['throws on write', () => new ThrowingDestination()],
    ['emits write errors', () => failingStream()],
  ])('never fails a request when it %s', async (_case, makeDestination) => {
    const destination = makeDestination();
    const stack = await startStack({ logDestination: destination as DestinationStream });
    try {
      const accounts = await send(stack.baseUrl, '/v1/accounts');
      await addFault(stack.emulator, { match: 'billing', action: 'status', status: 500, count: 1 });
      const failure = await send(stack.baseUrl, '/v1/credits');

      expect(accounts.status).toBe(200);
      expect(accounts.json.accounts[0]).toMatchObject({ id: ACCOUNT_ID });
      expect(failure.status).toBe(502);
      expect(failure.json).toMatchObject({ code: 'UPSTREAM_ERROR' });
      expect(destination.attempts).toBeGreaterThan(0);
    } finally {
      await stack.close();
    }
  });
});

describe('log capture', () => {
  it('parses every line the gateway writes as JSON', () => {
    const capture = new LogCapture();

    capture.write('{"level":"info","msg":"a"}\n{"level":"warn","msg":"b"}\n');

    expect(capture.lines.map((line) => line.msg)).toEqual(['a', 'b']);
  });
});
