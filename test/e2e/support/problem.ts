/** Checks shared by every spec that reads a problem+json error response. */
import type { GatewayResponse } from './harness';

/** A V8 stack frame such as "at Foo.bar (/src/x.ts:1:2)" or "at /src/x.ts:1:2". */
const STACK_FRAME = /\bat (?:[\w$.<>[\] ]+ \()?(?:\/|file:|node:)[^\s)]*:\d+:\d+/;

/**
 * Asserts the gateway's error contract: the status, problem+json, the stable `code`, the
 * request id that the `x-request-id` header carries, and no HTML, "undefined" or stack trace.
 */
export function expectProblem(response: GatewayResponse, status: number, code: string): void {
  expect({ status: response.status, code: response.body?.code, text: response.text }).toMatchObject(
    { status, code },
  );
  expect(response.contentType).toMatch(/^application\/problem\+json/);
  expect(response.body.status).toBe(status);
  expect(typeof response.body.title).toBe('string');
  expect(typeof response.body.detail).toBe('string');
  expect(response.body.detail.length).toBeGreaterThan(0);
  expect(typeof response.body.request_id).toBe('string');
  expect(response.body.request_id).toBe(response.headers.get('x-request-id'));
  expect(response.text).not.toMatch(/<html|<!doctype|<body/i);
  expect(response.text).not.toContain('undefined');
  expect(response.text).not.toMatch(STACK_FRAME);
}
