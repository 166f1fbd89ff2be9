import { mapUpstreamError } from './error-mapping';
import { UpstreamError, UpstreamErrorOptions } from './upstream-error';

const HTML = '<!DOCTYPE html><html><body><h1>Forbidden</h1></body></html>';

function clerk(options: Partial<UpstreamErrorOptions>): UpstreamError {
  return new UpstreamError({
    kind: 'http',
    operation: 'clerk_client',
    host: 'clerk',
    message: 'x',
    address: 'clerk.example:443',
    ...options,
  });
}

describe('UpstreamError.isServerSideFailure', () => {
  it.each<[string, Partial<UpstreamErrorOptions>, boolean]>([
    ['a 403 HTML page', { status: 403, bodySnippet: HTML }, true],
    [
      'a 404 HTML page after whitespace',
      { status: 404, bodySnippet: '\n  <html>gone</html>' },
      true,
    ],
    [
      'a 403 with a Clerk JSON body',
      { status: 403, bodySnippet: '{"errors":[{"code":"authentication_invalid"}]}' },
      false,
    ],
    ['a 401 with an empty body', { status: 401, bodySnippet: '' }, false],
    ['a 500 with JSON', { status: 500, bodySnippet: '{"detail":"x"}' }, true],
    ['a 200 HTML bad response', { kind: 'bad_response', status: 200, bodySnippet: HTML }, true],
    ['a circuit rejection', { kind: 'circuit_open' }, false],
  ])('counts %s: %s', (_name, options, expected) => {
    expect(clerk(options).isServerSideFailure).toBe(expected);
  });
});

describe('mapUpstreamError for an HTML page from the auth host', () => {
  it('returns UPSTREAM_AUTH_UNREACHABLE naming the host', () => {
    const error = mapUpstreamError(clerk({ status: 403, bodySnippet: HTML }));

    expect(error.status).toBe(502);
    expect(error.code).toBe('UPSTREAM_AUTH_UNREACHABLE');
    expect(error.message).toContain('clerk.example:443');
    expect(error.message).toContain('SUNO_AUTH_URL');
    expect(error.message).not.toMatch(/<html|Forbidden<\/h1>|undefined/i);
  });

  it('keeps a JSON 401 from Clerk as a rejected session', () => {
    const error = mapUpstreamError(
      clerk({
        status: 401,
        bodySnippet: '{"errors":[]}',
        body: { errors: [{ code: 'authentication_invalid' }] },
      }),
    );

    expect(error.code).toBe('ACCOUNT_SESSION_INVALID');
  });

  it('keeps an HTML 429 as rate limiting', () => {
    const error = mapUpstreamError(clerk({ status: 429, bodySnippet: HTML, retryAfterMs: 3000 }));

    expect(error.code).toBe('RATE_LIMITED');
    expect(error.retryAfterS).toBe(3);
  });
});
