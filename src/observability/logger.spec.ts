import { EventEmitter } from 'node:events';
import { trace } from '@opentelemetry/api';
import pino, { type DestinationStream } from 'pino';
import { requestContext } from '../common/request-context';
import { createRootLogger } from './logger';
import { REDACTED, REDACT_PATHS, redactDeep, scrubSecrets } from './redaction';

/** Shaped like Clerk's values: a JWT `__client`, a session JWT and a `sess_` id. */
const CLIENT_JWT = 'eyJhbGciOiJSUzI1NiJ9.eyJpZCI6ImNsaWVudF9tYXJrZXIifQ.c2lnbmF0dXJlLW1hcmtlcg';
const SESSION_JWT = 'eyJhbGciOiJSUzI1NiJ9.eyJzaWQiOiJzZXNzX21hcmtlciJ9.c2Vzc2lvbi1zaWduYXR1cmU';
const SESSION_ID = 'sess_2qMarkerSessionId7x';
const API_KEY = 'gw-key-9d8c7b6a5f4e';
const COOKIE = `ajs_anonymous_id=abc; __client=${CLIENT_JWT}; __client_uat=1712345678`;
const SECRETS = [CLIENT_JWT, SESSION_JWT, SESSION_ID, API_KEY];

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- parsed lines are checked field by field, as in the e2e specs
type LogLine = Record<string, any>;

class Capture implements DestinationStream {
  readonly raw: string[] = [];

  write(line: string): void {
    this.raw.push(line);
  }

  get text(): string {
    return this.raw.join('');
  }

  get lines(): LogLine[] {
    return this.raw.map((line) => JSON.parse(line) as LogLine);
  }
}

function setup(level = 'debug') {
  const capture = new Capture();
  const sut = createRootLogger({
    level,
    pretty: false,
    destination: capture,
    serviceVersion: '1.2.3',
  });

  return { sut, capture };
}

function expectNoSecrets(text: string): void {
  for (const secret of SECRETS) expect(text).not.toContain(secret);
  expect(text).not.toMatch(/eyJ[\w-]{4,}\.[\w-]{4,}\./);
  expect(text).not.toMatch(/sess_[A-Za-z0-9]{6,}/);
}

describe('root logger redaction', () => {
  it('redacts credential headers of requests and responses', () => {
    const { sut, capture } = setup();

    sut.info({
      req: {
        headers: { authorization: `Bearer ${API_KEY}`, cookie: COOKIE, 'x-request-id': 'r-1' },
      },
      res: { headers: { 'set-cookie': [`__client=${CLIENT_JWT}; Path=/; HttpOnly`] } },
      upstream: {
        response: {
          headers: { 'Set-Cookie': `__session=${SESSION_JWT}`, Authorization: CLIENT_JWT },
        },
      },
    });

    expectNoSecrets(capture.text);
    const [line] = capture.lines;
    expect(line?.req.headers).toEqual({
      authorization: REDACTED,
      cookie: REDACTED,
      'x-request-id': 'r-1',
    });
    expect(line?.res.headers['set-cookie']).toBe(REDACTED);
    expect(line?.upstream.response.headers['Set-Cookie']).toBe(REDACTED);
  });

  it('redacts credential fields of bodies at any depth', () => {
    const { sut, capture } = setup();

    sut.info({
      jwt: SESSION_JWT,
      body: { token: SESSION_JWT, session_id: SESSION_ID, prompt: 'a song' },
      account: {
        id: 'main',
        session: { sessionId: SESSION_ID, lastActiveToken: { jwt: SESSION_JWT } },
      },
      list: [{ clientToken: CLIENT_JWT }],
    });

    expectNoSecrets(capture.text);
    const [line] = capture.lines;
    expect(line?.body).toEqual({ token: REDACTED, session_id: REDACTED, prompt: 'a song' });
    expect(line?.account.id).toBe('main');
    expect(line?.list[0].clientToken).toBe(REDACTED);
  });

  it('masks secrets inside free text, messages and errors', () => {
    const { sut, capture } = setup();
    const error = new Error(
      `Clerk rejected cookie ${COOKIE} for ${SESSION_ID} with Bearer ${SESSION_JWT}`,
    );

    sut.warn({ detail: `upstream said ${SESSION_JWT}` }, `refresh failed for ${SESSION_ID}`);
    sut.error({ err: error }, 'token refresh failed');
    sut.error(error);

    expectNoSecrets(capture.text);
    const [first, second, third] = capture.lines;
    expect(first?.msg).toBe(`refresh failed for sess_${REDACTED}`);
    expect(second?.err.message).toContain(`__client=${REDACTED}`);
    expect(second?.err.stack).toContain('Error: Clerk rejected cookie');
    expect(third?.msg).toContain(`Bearer ${REDACTED}`);
  });

  it('reduces an axios-like error to its classification', () => {
    const { sut, capture } = setup();
    const cause = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), {
      code: 'ECONNREFUSED',
      config: { headers: { authorization: `Bearer ${SESSION_JWT}`, cookie: COOKIE } },
    });
    const error = Object.assign(new Error('billing failed with ECONNREFUSED'), {
      name: 'UpstreamError',
      kind: 'connect',
      operation: 'billing',
      cause,
    });

    sut.error({ err: error, context: { failure: cause } }, 'request failed');

    expectNoSecrets(capture.text);
    const [line] = capture.lines;
    expect(line?.err).toMatchObject({
      type: 'UpstreamError',
      kind: 'connect',
      operation: 'billing',
      cause: { type: 'Error', code: 'ECONNREFUSED' },
    });
    expect(line?.context.failure.config).toBeUndefined();
  });

  it('keeps every line valid JSON after masking', () => {
    const { sut, capture } = setup();

    sut.info(
      { cookie_text: `a "${COOKIE}" b`, quoted: `"__session=${SESSION_JWT}"` },
      'with "quotes" and \\ backslashes',
    );

    expect(() => capture.lines).not.toThrow();
    expect(capture.lines[0]?.quoted).toBe(`"__session=${REDACTED}"`);
  });

  it('writes placeholders for cycles and getters that throw', () => {
    const { sut, capture } = setup();
    const cyclic: Record<string, unknown> = { name: 'loop' };
    cyclic.self = cyclic;
    const hostile = Object.defineProperty({}, 'boom', {
      enumerable: true,
      get() {
        throw new Error('getter failed');
      },
    });

    sut.info({ cyclic }, 'cycle');
    expect(() => sut.info({ hostile }, 'hostile')).not.toThrow();

    expect(capture.lines[0]?.cyclic.self).toBe('[Circular]');
    expect(capture.lines[1]).toMatchObject({
      msg: 'hostile',
      log_fields_dropped: expect.any(String),
    });
  });
});

describe('root logger fields', () => {
  it('writes time, level, message and service fields', () => {
    const { sut, capture } = setup();

    sut.info('started');

    expect(capture.lines[0]).toMatchObject({
      level: 'info',
      msg: 'started',
      service: 'suno-gateway',
      version: '1.2.3',
    });
    expect(Date.parse(capture.lines[0]?.time)).not.toBeNaN();
  });

  it('adds the request context and the active span', () => {
    const { sut, capture } = setup();
    const spanContext = {
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      spanId: '00f067aa0ba902b7',
      traceFlags: 1,
    };
    // No context manager is registered in unit specs, so the active span is stubbed.
    const spy = jest
      .spyOn(trace, 'getActiveSpan')
      .mockReturnValue(trace.wrapSpanContext(spanContext));

    requestContext.run({ requestId: 'req-7', accountId: 'main', clientId: 'ci' }, () =>
      sut.info('inside'),
    );
    spy.mockRestore();

    expect(capture.lines[0]).toMatchObject({
      request_id: 'req-7',
      account: 'main',
      client: 'ci',
      trace_id: spanContext.traceId,
      span_id: spanContext.spanId,
    });
  });
});

describe('root logger output format', () => {
  const ttyDescriptor = Object.getOwnPropertyDescriptor(process.stdout, 'isTTY');

  afterEach(() => {
    if (ttyDescriptor) Object.defineProperty(process.stdout, 'isTTY', ttyDescriptor);
    else delete (process.stdout as { isTTY?: boolean }).isTTY;
  });

  function streamOf(isTTY: boolean, pretty: boolean): { constructor: { name: string } } {
    Object.defineProperty(process.stdout, 'isTTY', {
      value: isTTY,
      configurable: true,
      writable: true,
    });
    const sut = createRootLogger({ level: 'silent', pretty });

    return (sut as unknown as Record<symbol, { constructor: { name: string } }>)[
      pino.symbols.streamSym
    ];
  }

  it('writes JSON when stdout is no TTY', () => {
    expect(streamOf(false, true).constructor.name).toBe('SonicBoom');
  });

  it('writes JSON unless pretty is set', () => {
    expect(streamOf(true, false).constructor.name).toBe('SonicBoom');
  });

  it('pretty-prints to a TTY on request', () => {
    expect(streamOf(true, true).constructor.name).not.toBe('SonicBoom');
  });
});

describe('root logger destination failures', () => {
  it('drops the line when the destination throws', () => {
    const destination = {
      attempts: 0,
      write() {
        destination.attempts += 1;
        throw new Error('EBADF: bad file descriptor');
      },
    };
    const sut = createRootLogger({ level: 'info', pretty: false, destination });

    expect(() => sut.info('lost line')).not.toThrow();
    expect(destination.attempts).toBe(1);
  });

  it('swallows error events of the destination', () => {
    const destination = Object.assign(new EventEmitter(), { write: () => undefined });
    createRootLogger({ level: 'info', pretty: false, destination });

    expect(() => destination.emit('error', new Error('EPIPE'))).not.toThrow();
  });
});

describe('redaction helpers', () => {
  it.each([
    [
      'a Clerk cookie header',
      `Cookie: ${COOKIE}`,
      `Cookie: ajs_anonymous_id=abc; __client=${REDACTED}; __client_uat=${REDACTED}`,
    ],
    ['a bearer token', `Authorization: Bearer ${API_KEY}`, `Authorization: Bearer ${REDACTED}`],
    [
      'a session id in a path',
      `/v1/client/sessions/${SESSION_ID}/tokens`,
      `/v1/client/sessions/sess_${REDACTED}/tokens`,
    ],
    ['a bare JWT', `token ${SESSION_JWT}.`, `token ${REDACTED}.`],
    ['text without secrets', 'no secret here: sess_ab and eyJ', 'no secret here: sess_ab and eyJ'],
  ])('scrubs %s', (_case, input, expected) => {
    expect(scrubSecrets(input)).toBe(expected);
  });

  it('covers headers and bodies with redaction paths', () => {
    expect(REDACT_PATHS).toEqual(
      expect.arrayContaining([
        'cookie',
        '*.cookie',
        '*.*.cookie',
        '*.*["set-cookie"]',
        '*.authorization',
        '*.*.session_id',
        'jwt',
      ]),
    );
  });

  it('copies values without touching the original', () => {
    const original = { headers: { cookie: COOKIE }, count: 3, when: new Date(0) };

    const copy = redactDeep(original, (err) => ({ type: err.name })) as typeof original;

    expect(copy).toEqual({ headers: { cookie: REDACTED }, count: 3, when: new Date(0) });
    expect(original.headers.cookie).toBe(COOKIE);
  });
});
