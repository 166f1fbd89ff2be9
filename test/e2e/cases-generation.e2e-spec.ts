/**
 * Generation trouble that users of other Suno gateways met: flagged accounts, OpenAI-style
 * chat clients, unhelpful upstream errors, non-Latin text, waits longer than a platform
 * allows, songs that never finish, and expired tokens on every write and read path.
 */
import { DEFAULT_ACCOUNT } from '../emulator';
import { metricValue, routeDelta } from './support/cases-support';
import { eventually, sleep, startStack, type Stack } from './support/harness';
import { expectProblem } from './support/problem';

jest.setTimeout(30_000);

const SONG = {
  prompt: '[Verse]\nSalt on the window, tide in my sleep',
  title: 'Tide',
  tags: 'dream pop',
  mv: 'chirp-v3-5',
};
const UNAUTHORIZED = { detail: 'Unauthorized' };

describe('flagged account', () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack({ emulator: { generationS: 1 } });
  });

  afterAll(async () => {
    await stack?.close();
  });

  it('flags and counts warned clips', async () => {
    const clean = await stack.request('POST', '/v1/generations?wait=true', { body: SONG });
    await stack.upsertEmulatorAccount({ id: DEFAULT_ACCOUNT.id, degraded: true });

    const flagged = await stack.request('POST', '/v1/generations?wait=true', { body: SONG });

    expect(clean.status).toBe(200);
    expect(
      clean.body.clips.map((clip: { suspect_degraded: boolean }) => clip.suspect_degraded),
    ).toEqual([false, false]);
    expect(flagged.status).toBe(200);
    for (const clip of flagged.body.clips) {
      expect(clip.status).toBe('complete');
      expect(clip.suspect_degraded).toBe(true);
      expect(clip.lyrics).toMatch(/^This is a fake app/);
    }
    const read = await stack.request('GET', `/v1/clips/${flagged.body.clips[0].id}`);
    expect(read.body.suspect_degraded).toBe(true);
    expect(await metricValue(stack, 'suno_degraded_clips_total', { account: 'default' })).toBe(2);
  });
});

describe('OpenAI chat completions', () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack({ emulator: { generationS: 1 } });
  });

  afterEach(async () => {
    await stack?.resetUpstream();
  });

  afterAll(async () => {
    await stack?.close();
  });

  it('rejects missing messages in OpenAI shape', async () => {
    const response = await stack.request('POST', '/v1/chat/completions', { body: { prompt: 'x' } });

    expect(response.status).toBe(400);
    expect(response.contentType).toMatch(/^application\/json/);
    expect(response.body.error).toMatchObject({ type: 'invalid_request_error', param: 'messages' });
    expect(response.body.error.message).toEqual(expect.any(String));
    expect((await stack.stats()).requests.generate).toBe(0);
  });

  it('returns a chat.completion with the songs', async () => {
    const response = await stack.request('POST', '/v1/chat/completions', {
      body: { model: 'suno-v3.5', messages: [{ role: 'user', content: 'song about rain' }] },
    });

    expect(response.status).toBe(200);
    expect(response.body.object).toBe('chat.completion');
    expect(response.body.model).toBe('suno-v3.5');
    expect(response.body.choices).toHaveLength(1);
    expect(response.body.choices[0]).toMatchObject({
      index: 0,
      finish_reason: 'stop',
      message: { role: 'assistant' },
    });
    expect(response.body.choices[0].message.content).toMatch(/is complete/);
    expect(response.body.choices[0].message.content.match(/\.mp3\)/g)).toHaveLength(2);
  });

  it('streams keep-alives and ends with [DONE]', async () => {
    // The gateway writes a keep-alive comment every 5 s, so the song takes longer than that.
    await stack.patchEmulatorConfig({ generation_s: 6 });

    const response = await stack.request('POST', '/v1/chat/completions', {
      body: {
        model: 'suno-v3.5',
        stream: true,
        messages: [{ role: 'user', content: 'song about rain' }],
      },
    });

    expect(response.status).toBe(200);
    expect(response.contentType).toMatch(/^text\/event-stream/);
    const events = response.text.split('\n\n').filter((event) => event.length > 0);
    expect(events.filter((event) => event === ': keep-alive').length).toBeGreaterThanOrEqual(1);
    const data = events
      .filter((event) => event.startsWith('data: '))
      .map((event) => event.slice('data: '.length));
    expect(data[data.length - 1]).toBe('[DONE]');
    const chunks = data.slice(0, -1).map((text) => JSON.parse(text));
    expect(chunks.length).toBeGreaterThanOrEqual(2);
    for (const chunk of chunks) expect(chunk.object).toBe('chat.completion.chunk');
    expect(chunks[0].choices[0].delta.content).toMatch(/is complete/);
    expect(chunks[chunks.length - 1].choices[0].finish_reason).toBe('stop');
  });
});

describe('upstream error bodies', () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack({ env: { BREAKER_THRESHOLD: '1000' } });
  });

  afterEach(async () => {
    await stack?.resetUpstream();
  });

  afterAll(async () => {
    await stack?.close();
  });

  it('passes an upstream 400 without retry', async () => {
    await stack.fault({
      match: 'generate',
      action: 'status',
      status: 400,
      body: { detail: 'Prompt too long' },
    });
    const before = await stack.stats();

    const response = await stack.request('POST', '/v1/generations', { body: SONG });

    expectProblem(response, 400, 'UPSTREAM_REJECTED');
    expect(response.body.detail).toBe('Prompt too long');
    expect(response.body.upstream_status).toBe(400);
    expect(routeDelta(before, await stack.stats()).generate).toBe(1);
  });

  it('reports an empty 403 by status', async () => {
    await stack.fault({ match: 'generate', action: 'status', status: 403, body: '' });
    const before = await stack.stats();

    const response = await stack.request('POST', '/v1/generations', { body: SONG });

    expectProblem(response, 503, 'ACCOUNT_SESSION_INVALID');
    expect(response.body.upstream_status).toBe(403);
    expect(routeDelta(before, await stack.stats()).generate).toBe(1);
  });

  it('truncates an upstream 500 body to 1 KB', async () => {
    const body = JSON.stringify({ message: 'x', trace: 'frame '.repeat(600) });
    await stack.fault({ match: 'generate', action: 'status', status: 500, body });

    const response = await stack.request('POST', '/v1/generations', { body: SONG });

    expectProblem(response, 502, 'UPSTREAM_ERROR');
    expect(response.body.upstream_status).toBe(500);
    expect(response.body.detail).toContain('x');
    expect(response.body.upstream_body.length).toBeLessThanOrEqual(1024);
    expect(body.startsWith(response.body.upstream_body)).toBe(true);
  });
});

describe('non-Latin text', () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack({ emulator: { generationS: 1 } });
  });

  afterAll(async () => {
    await stack?.close();
  });

  it('keeps emoji and CJK text intact', async () => {
    const lyrics = '[Verse]\n雨の夜に 🌧️ 빗소리가 들려 🎶\n[Chorus]\n下雨天 ☔ 我想你';
    const title = '雨 🌧️ 비';

    const created = await stack.request('POST', '/v1/generations?wait=true', {
      body: { prompt: lyrics, title, tags: 'city pop, 日本語', mv: 'chirp-v3-5' },
    });
    const feed = await stack.request('GET', `/feed/${created.body.clips[0].id}`);

    expect(created.status).toBe(200);
    for (const clip of created.body.clips) {
      expect(clip.lyrics).toBe(lyrics);
      expect(clip.title).toBe(title);
      expect(clip.tags).toBe('city pop, 日本語');
    }
    expect(feed.body[0].metadata.prompt).toBe(lyrics);
    expect(stack.logs().filter((line) => line.unparsed !== undefined)).toEqual([]);
  });
});

describe('wait budget', () => {
  const BUDGET_MS = 800;
  const MAX_BUDGET_MS = 1_500;
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack({
      emulator: { generationS: 60 },
      env: { WAIT_BUDGET_MS: String(BUDGET_MS), WAIT_MAX_BUDGET_MS: String(MAX_BUDGET_MS) },
    });
  });

  afterAll(async () => {
    await stack?.close();
  });

  it('returns 202 when the default budget ends', async () => {
    const started = Date.now();

    const response = await stack.request('POST', '/v1/generations?wait=true', { body: SONG });
    const elapsedMs = Date.now() - started;

    expect(response.status).toBe(202);
    expect(elapsedMs).toBeGreaterThanOrEqual(BUDGET_MS - 50);
    expect(elapsedMs).toBeLessThan(BUDGET_MS + 1_500);
    expect(response.body.id).toEqual(expect.any(String));
    expect(['submitted', 'queued']).toContain(response.body.status);
    for (const clip of response.body.clips) {
      expect(['submitted', 'queued']).toContain(clip.status);
      expect(clip.audio_url).toBeNull();
    }
  });

  it('caps timeout_s at the maximum budget', async () => {
    const started = Date.now();

    const response = await stack.request('POST', '/v1/generations?wait=true&timeout_s=600', {
      body: SONG,
    });
    const elapsedMs = Date.now() - started;

    expect(response.status).toBe(202);
    expect(elapsedMs).toBeGreaterThanOrEqual(MAX_BUDGET_MS - 50);
    expect(elapsedMs).toBeLessThan(MAX_BUDGET_MS + 1_500);
  });
});

describe('generation that never finishes', () => {
  const MAX_AGE_MS = 1_000;
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack({
      emulator: { generationS: 600 },
      env: { GENERATION_MAX_AGE_MS: String(MAX_AGE_MS) },
    });
  });

  afterAll(async () => {
    await stack?.close();
  });

  it('stops polling at the maximum age', async () => {
    const created = await stack.request('POST', '/v1/generations', { body: SONG });

    const finished = await eventually(
      async () => {
        const read = await stack.request('GET', `/v1/generations/${created.body.id}`);

        return read.body.status === 'timeout' ? read : undefined;
      },
      'the generation to time out',
      MAX_AGE_MS + 3_000,
      100,
    );
    const feedCalls = (await stack.stats()).requests.feed;
    // Ten poll intervals of the harness (100 ms each).
    await sleep(1_000);
    const awaited = await stack.request(
      'GET',
      `/v1/generations/${created.body.id}?wait=true&timeout_s=10`,
    );

    expect(created.status).toBe(202);
    expect(finished.status).toBe(200);
    expect(finished.body.finished_at).toEqual(expect.any(String));
    for (const clip of finished.body.clips) expect(['submitted', 'queued']).toContain(clip.status);
    expect((await stack.stats()).requests.feed).toBe(feedCalls);
    expect(awaited.status).toBe(200);
    expect(awaited.body.status).toBe('timeout');
  });
});

describe('expired token on every path', () => {
  let stack: Stack;
  let song: Record<string, any>;

  beforeAll(async () => {
    stack = await startStack({ emulator: { generationS: 1, lyricsS: 0.2 } });
    const created = await stack.request('POST', '/v1/generations?wait=true', { body: SONG });
    song = created.body;
  });

  afterEach(async () => {
    await stack?.clearFaults();
  });

  afterAll(async () => {
    await stack?.close();
  });

  it('extend refreshes once and sends task extend', async () => {
    await stack.fault({
      match: 'generate',
      action: 'status',
      status: 401,
      body: UNAUTHORIZED,
      count: 1,
    });
    const before = await stack.stats();

    const extended = await stack.request('POST', `/v1/clips/${song.clips[0].id}/extend?wait=true`, {
      body: { continue_at: 1.5, prompt: '[Bridge]\nThe tide turns', mv: 'chirp-v3-5' },
    });

    expect(extended.status).toBe(200);
    expect(extended.body.kind).toBe('extend');
    const after = await stack.stats();
    expect(after.tokens_minted - before.tokens_minted).toBe(1);
    expect(routeDelta(before, after).generate).toBe(2);
    expect(after.generations - before.generations).toBe(1);
    const upstream = stack.emulator.state.clips.get(extended.body.clips[0].id)!;
    expect(upstream.task).toBe('extend');
    song = { ...song, extended: extended.body };
  });

  it.each([
    ['concat', 'concat', () => ['POST', `/v1/clips/${song.extended.clips[0].id}/concat`]],
    ['lyrics submit', 'lyrics_submit', () => ['POST', '/v1/lyrics']],
    ['clip read', 'clip', () => ['GET', `/v1/clips/${song.clips[0].id}`]],
    [
      'aligned lyrics',
      'aligned_lyrics',
      () => ['GET', `/v1/clips/${song.clips[0].id}/aligned-lyrics`],
    ],
  ] as const)('refreshes once and replays a 401 on %s', async (_name, route, target) => {
    const [method, path] = target();
    await stack.fault({
      match: route,
      action: 'status',
      status: 401,
      body: UNAUTHORIZED,
      count: 1,
    });
    const before = await stack.stats();

    const response = await stack.request(
      method,
      path,
      method === 'POST' && route === 'lyrics_submit'
        ? { body: { prompt: 'the sea at night' } }
        : {},
    );

    expect(response.status).toBeLessThan(300);
    const after = await stack.stats();
    expect(after.tokens_minted - before.tokens_minted).toBe(1);
    expect(routeDelta(before, after)[route]).toBe(2);
  });
});
