/**
 * Rejected input on every route: each row must get a 4xx problem response and must not make
 * the gateway spend credits or call a submit route upstream.
 */
import {
  startStack,
  type GatewayResponse,
  type RequestOptions,
  type Stack,
} from './support/harness';
import { expectProblem } from './support/problem';

const CLIP_ID = '3f0c8a52-6a9f-4a0c-9bb0-2d9f3c1e7a10';
const SUBMIT_ROUTES = ['generate', 'concat', 'lyrics_submit', 'stems'];
const JSON_TYPE = { 'content-type': 'application/json' };
const ids = (count: number) =>
  Array.from(
    { length: count },
    (_, i) => `3f0c8a52-6a9f-4a0c-9bb0-${String(i).padStart(12, '0')}`,
  ).join(',');

interface BadInputRow {
  name: string;
  method: 'GET' | 'POST';
  path: string;
  options?: RequestOptions;
  status: number;
  code: string;
  /** Text the problem's `detail` must contain, such as the field name. */
  detail?: (string | RegExp)[];
  check?: (response: GatewayResponse) => void;
}

const ROWS: BadInputRow[] = [
  // POST /v1/generations bodies
  {
    name: 'generation mixing description and custom mode',
    method: 'POST',
    path: '/v1/generations',
    options: { body: { gpt_description_prompt: 'a calm piano piece', prompt: '[Verse] words' } },
    status: 400,
    code: 'VALIDATION_FAILED',
    detail: ['gpt_description_prompt', 'prompt'],
  },
  {
    name: 'form-encoded body (curl without a JSON content type)',
    method: 'POST',
    path: '/v1/generations',
    options: {
      rawBody: '{"gpt_description_prompt":"x"}',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    },
    status: 415,
    code: 'UNSUPPORTED_MEDIA_TYPE',
    detail: ['application/json'],
  },
  {
    name: 'generation without prompt or description',
    method: 'POST',
    path: '/v1/generations',
    options: { body: {} },
    status: 400,
    code: 'VALIDATION_FAILED',
    detail: ['prompt'],
  },
  {
    name: 'generation with a numeric prompt',
    method: 'POST',
    path: '/v1/generations',
    options: { body: { prompt: 42 } },
    status: 400,
    code: 'VALIDATION_FAILED',
    detail: ['prompt'],
  },
  {
    name: 'generation with a null prompt',
    method: 'POST',
    path: '/v1/generations',
    options: { body: { prompt: null } },
    status: 400,
    code: 'VALIDATION_FAILED',
    detail: ['prompt'],
  },
  {
    name: 'generation with a string boolean',
    method: 'POST',
    path: '/v1/generations',
    options: { body: { prompt: 'la', make_instrumental: 'yes' } },
    status: 400,
    code: 'VALIDATION_FAILED',
    detail: ['make_instrumental'],
  },
  {
    name: 'generation with an unknown model',
    method: 'POST',
    path: '/v1/generations',
    options: { body: { prompt: 'la', mv: 'chirp-v9' } },
    status: 400,
    code: 'VALIDATION_FAILED',
    detail: ['mv'],
  },
  {
    name: 'generation with an unknown field',
    method: 'POST',
    path: '/v1/generations',
    options: { body: { prompt: 'la', count: 4 } },
    status: 400,
    code: 'VALIDATION_FAILED',
    detail: ['count'],
  },
  {
    name: '3,100 CJK characters of lyrics on chirp-v3-5',
    method: 'POST',
    path: '/v1/generations',
    options: { body: { prompt: '雨'.repeat(3_100), mv: 'chirp-v3-5' } },
    status: 400,
    code: 'VALIDATION_FAILED',
    detail: ['prompt', '3000', '3100'],
    check: (response) =>
      expect(response.body.errors).toEqual([
        expect.objectContaining({ field: 'prompt', limit: 3000, actual: 3100 }),
      ]),
  },
  {
    name: 'emoji lyrics counted in code points',
    method: 'POST',
    path: '/v1/generations',
    options: { body: { prompt: '🎵'.repeat(3_001), mv: 'chirp-v3-5' } },
    status: 400,
    code: 'VALIDATION_FAILED',
    detail: ['prompt', '3000', '3001'],
  },
  {
    name: '250-character style on chirp-v3-5',
    method: 'POST',
    path: '/v1/generations',
    options: { body: { prompt: 'la', tags: 'x'.repeat(250), mv: 'chirp-v3-5' } },
    status: 400,
    code: 'VALIDATION_FAILED',
    detail: ['tags', '200', '250'],
  },
  {
    name: '201-character description on chirp-v3-5',
    method: 'POST',
    path: '/v1/generations',
    options: { body: { gpt_description_prompt: 'd'.repeat(201), mv: 'chirp-v3-5' } },
    status: 400,
    code: 'VALIDATION_FAILED',
    detail: ['gpt_description_prompt', '200', '201'],
  },
  {
    name: 'lyrics over 5,000 characters',
    method: 'POST',
    path: '/v1/generations',
    options: { body: { prompt: 'l'.repeat(5_001) } },
    status: 400,
    code: 'VALIDATION_FAILED',
    detail: ['prompt'],
  },
  {
    name: 'title over 100 characters',
    method: 'POST',
    path: '/v1/generations',
    options: { body: { prompt: 'la', title: 't'.repeat(101) } },
    status: 400,
    code: 'VALIDATION_FAILED',
    detail: ['title'],
  },
  {
    name: 'malformed JSON',
    method: 'POST',
    path: '/v1/generations',
    options: { rawBody: '{"prompt": "la",', headers: JSON_TYPE },
    status: 400,
    code: 'VALIDATION_FAILED',
    detail: [/JSON/],
  },
  {
    name: 'text/plain body',
    method: 'POST',
    path: '/v1/generations',
    options: { rawBody: 'prompt=la', headers: { 'content-type': 'text/plain' } },
    status: 415,
    code: 'UNSUPPORTED_MEDIA_TYPE',
  },
  {
    name: 'empty JSON body',
    method: 'POST',
    path: '/v1/generations',
    options: { rawBody: '', headers: JSON_TYPE },
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'no body at all',
    method: 'POST',
    path: '/v1/generations',
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'array instead of an object',
    method: 'POST',
    path: '/v1/generations',
    options: { body: [{ prompt: 'la' }] },
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'JSON string instead of an object',
    method: 'POST',
    path: '/v1/generations',
    options: { rawBody: '"la la la"', headers: JSON_TYPE },
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'body over the size limit',
    method: 'POST',
    path: '/v1/generations',
    options: { body: { prompt: 'x'.repeat(300_000) } },
    status: 413,
    code: 'PAYLOAD_TOO_LARGE',
  },
  // Query parameters
  {
    name: 'wait=maybe',
    method: 'POST',
    path: '/v1/generations?wait=maybe',
    options: { body: { prompt: 'la' } },
    status: 400,
    code: 'VALIDATION_FAILED',
    detail: ['wait'],
  },
  {
    name: 'timeout_s=-1',
    method: 'POST',
    path: '/v1/generations?wait=true&timeout_s=-1',
    options: { body: { prompt: 'la' } },
    status: 400,
    code: 'VALIDATION_FAILED',
    detail: ['timeout_s'],
  },
  {
    name: 'timeout_s=soon',
    method: 'GET',
    path: `/v1/generations/${CLIP_ID}?wait=true&timeout_s=soon`,
    status: 400,
    code: 'VALIDATION_FAILED',
    detail: ['timeout_s'],
  },
  {
    name: 'timeout_s over 600',
    method: 'POST',
    path: '/v1/generations?wait=true&timeout_s=601',
    options: { body: { prompt: 'la' } },
    status: 400,
    code: 'VALIDATION_FAILED',
    detail: ['timeout_s'],
  },
  {
    name: 'wait_for=done',
    method: 'POST',
    path: '/v1/generations?wait=true&wait_for=done',
    options: { body: { prompt: 'la' } },
    status: 400,
    code: 'VALIDATION_FAILED',
    detail: ['wait_for'],
  },
  {
    name: 'unknown query parameter',
    method: 'POST',
    path: '/v1/generations?count=2',
    options: { body: { prompt: 'la' } },
    status: 400,
    code: 'VALIDATION_FAILED',
    detail: ['count'],
  },
  // Headers
  {
    name: 'Idempotency-Key with spaces',
    method: 'POST',
    path: '/v1/generations',
    options: { body: { prompt: 'la' }, headers: { 'idempotency-key': 'not a valid key' } },
    status: 400,
    code: 'VALIDATION_FAILED',
    detail: ['Idempotency-Key'],
  },
  {
    name: 'Idempotency-Key over 255 characters',
    method: 'POST',
    path: '/v1/generations',
    options: { body: { prompt: 'la' }, headers: { 'idempotency-key': 'k'.repeat(256) } },
    status: 400,
    code: 'VALIDATION_FAILED',
    detail: ['Idempotency-Key'],
  },
  {
    name: 'missing API key',
    method: 'POST',
    path: '/v1/generations',
    options: { body: { prompt: 'la' }, auth: false },
    status: 401,
    code: 'UNAUTHORIZED',
  },
  {
    name: 'wrong API key',
    method: 'POST',
    path: '/v1/generations',
    options: { body: { prompt: 'la' }, headers: { authorization: 'Bearer not-the-right-key-000' } },
    status: 401,
    code: 'UNAUTHORIZED',
  },
  {
    name: 'Basic credentials instead of a bearer key',
    method: 'GET',
    path: '/v1/credits',
    options: { headers: { authorization: 'Basic dXNlcjpwYXNz' } },
    status: 401,
    code: 'UNAUTHORIZED',
  },
  {
    name: 'missing API key on a compat route',
    method: 'POST',
    path: '/generate',
    options: { body: { prompt: 'la' }, auth: false },
    status: 401,
    code: 'UNAUTHORIZED',
  },
  // Ids in paths and queries
  {
    name: 'generation id that is not a UUID',
    method: 'GET',
    path: '/v1/generations/123',
    status: 400,
    code: 'VALIDATION_FAILED',
    detail: ['id'],
  },
  {
    name: 'clip id that is not a UUID',
    method: 'GET',
    path: '/v1/clips/not-a-clip',
    status: 400,
    code: 'VALIDATION_FAILED',
    detail: ['id'],
  },
  {
    name: 'aligned lyrics of a non-UUID id',
    method: 'GET',
    path: '/v1/clips/..%2F..%2Fetc/aligned-lyrics',
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'empty ids list',
    method: 'GET',
    path: '/v1/clips?ids=',
    status: 400,
    code: 'VALIDATION_FAILED',
    detail: ['ids'],
  },
  {
    name: 'ids list without the parameter',
    method: 'GET',
    path: '/v1/clips',
    status: 400,
    code: 'VALIDATION_FAILED',
    detail: ['ids'],
  },
  {
    name: '51 clip ids',
    method: 'GET',
    path: `/v1/clips?ids=${ids(51)}`,
    status: 400,
    code: 'VALIDATION_FAILED',
    detail: ['50'],
  },
  {
    name: 'ids list with a bad id',
    method: 'GET',
    path: `/v1/clips?ids=${CLIP_ID},nope`,
    status: 400,
    code: 'VALIDATION_FAILED',
    detail: ['UUID'],
  },
  {
    name: 'lyrics id over 100 characters',
    method: 'GET',
    path: `/v1/lyrics/${'a'.repeat(101)}`,
    status: 400,
    code: 'VALIDATION_FAILED',
    detail: ['id'],
  },
  {
    name: 'path parameter over 2,048 characters',
    method: 'GET',
    path: `/v1/lyrics/${'a'.repeat(2_049)}`,
    status: 414,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'malformed percent-encoding in the path',
    method: 'GET',
    path: '/v1/clips/%E0%A4%A',
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'compat feed with 51 ids',
    method: 'GET',
    path: `/feed/${ids(51)}`,
    status: 400,
    code: 'VALIDATION_FAILED',
    detail: ['ids'],
  },
  // Extend and concat
  {
    name: 'extend without continue_at',
    method: 'POST',
    path: `/v1/clips/${CLIP_ID}/extend`,
    options: { body: { prompt: 'more' } },
    status: 400,
    code: 'VALIDATION_FAILED',
    detail: ['continue_at'],
  },
  {
    name: 'extend with continue_at as text',
    method: 'POST',
    path: `/v1/clips/${CLIP_ID}/extend`,
    options: { body: { continue_at: 'ten' } },
    status: 400,
    code: 'VALIDATION_FAILED',
    detail: ['continue_at'],
  },
  {
    name: 'extend with a negative continue_at',
    method: 'POST',
    path: `/v1/clips/${CLIP_ID}/extend`,
    options: { body: { continue_at: -1 } },
    status: 400,
    code: 'VALIDATION_FAILED',
    detail: ['continue_at'],
  },
  {
    name: 'extend of a non-UUID clip',
    method: 'POST',
    path: '/v1/clips/abc/extend',
    options: { body: { continue_at: 1 } },
    status: 400,
    code: 'VALIDATION_FAILED',
    detail: ['id'],
  },
  {
    name: 'concat of a non-UUID clip',
    method: 'POST',
    path: '/v1/clips/abc/concat',
    status: 400,
    code: 'VALIDATION_FAILED',
    detail: ['id'],
  },
  // Lyrics
  {
    name: 'lyrics without prompt',
    method: 'POST',
    path: '/v1/lyrics',
    options: { body: {} },
    status: 400,
    code: 'VALIDATION_FAILED',
    detail: ['prompt'],
  },
  {
    name: 'lyrics with an empty prompt',
    method: 'POST',
    path: '/v1/lyrics',
    options: { body: { prompt: '' } },
    status: 400,
    code: 'VALIDATION_FAILED',
    detail: ['prompt'],
  },
  {
    name: 'lyrics with an object prompt',
    method: 'POST',
    path: '/v1/lyrics',
    options: { body: { prompt: { text: 'x' } } },
    status: 400,
    code: 'VALIDATION_FAILED',
    detail: ['prompt'],
  },
  // Compat routes
  {
    name: 'compat generate without prompt',
    method: 'POST',
    path: '/generate',
    options: { body: { tags: 'pop' } },
    status: 400,
    code: 'VALIDATION_FAILED',
    detail: ['prompt'],
  },
  {
    name: 'compat description mode with lyrics',
    method: 'POST',
    path: '/generate/description-mode',
    options: { body: { gpt_description_prompt: 'a song', prompt: 'lyrics here' } },
    status: 400,
    code: 'VALIDATION_FAILED',
    detail: ['prompt'],
  },
  {
    name: 'compat description mode without description',
    method: 'POST',
    path: '/generate/description-mode',
    options: { body: { gpt_description_prompt: '' } },
    status: 400,
    code: 'VALIDATION_FAILED',
    detail: ['gpt_description_prompt'],
  },
  {
    name: 'compat feed with a bad id',
    method: 'GET',
    path: '/feed/not-a-uuid',
    status: 400,
    code: 'VALIDATION_FAILED',
    detail: ['ids'],
  },
  {
    name: 'compat lyrics without prompt',
    method: 'POST',
    path: '/generate/lyrics/',
    options: { body: {} },
    status: 400,
    code: 'VALIDATION_FAILED',
    detail: ['prompt'],
  },
  // Routes
  { name: 'unknown route', method: 'GET', path: '/v1/songs', status: 404, code: 'NOT_FOUND' },
  {
    name: 'wrong method on a route',
    method: 'POST',
    path: '/v1/credits',
    options: { body: {} },
    status: 404,
    code: 'NOT_FOUND',
  },
];

describe('bad input', () => {
  let stack: Stack;
  let submitsAtStart: number;

  beforeAll(async () => {
    stack = await startStack();
    submitsAtStart = countSubmits((await stack.stats()).requests);
  });

  afterAll(async () => {
    await stack?.close();
  });

  it('has at least 25 rows', () => {
    expect(ROWS.length).toBeGreaterThanOrEqual(25);
  });

  it.each(ROWS.map((row) => [row.name, row] as const))('%s', async (_name, row) => {
    const response = await stack.request(row.method, row.path, row.options);

    expectProblem(response, row.status, row.code);
    for (const part of row.detail ?? []) expect(response.body.detail).toMatch(part);
    row.check?.(response);
    expect(countSubmits((await stack.stats()).requests)).toBe(submitsAtStart);
  });

  it('rejected rows left credits untouched', async () => {
    const stats = await stack.stats();

    expect(stats.generations).toBe(0);
    expect(stats.credits.demo).toBe(500);
  });
});

function countSubmits(requests: Record<string, number>): number {
  return SUBMIT_ROUTES.reduce((sum, route) => sum + requests[route], 0);
}
