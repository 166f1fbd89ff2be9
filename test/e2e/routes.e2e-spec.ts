/**
 * Every native and compat route against the emulator, checked for the documented shape,
 * and for the upstream calls behind extend and concat.
 */
import { DEFAULT_ACCOUNT } from '../emulator';
import { startStack, type Stack } from './support/harness';
import { expectProblem } from './support/problem';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const UNKNOWN_ID = '00000000-0000-4000-8000-000000000000';
const LYRICS = '[Verse]\nPaper boats along the river\n[Chorus]\nCarry me home, carry me home';
const SONG = { prompt: LYRICS, title: 'Paper Boats', tags: 'folk, acoustic', mv: 'chirp-v3-5' };

const CLIP_KEYS = [
  'id',
  'status',
  'title',
  'audio_url',
  'stream_url',
  'image_url',
  'video_url',
  'duration',
  'model',
  'tags',
  'negative_tags',
  'lyrics',
  'gpt_description_prompt',
  'type',
  'created_at',
  'error_message',
  'suspect_degraded',
].sort();
const NULLABLE_TEXT = [
  'title',
  'audio_url',
  'stream_url',
  'image_url',
  'video_url',
  'model',
  'tags',
  'negative_tags',
  'lyrics',
  'gpt_description_prompt',
  'type',
  'created_at',
  'error_message',
];
const GENERATION_KEYS = [
  'id',
  'kind',
  'status',
  'account',
  'created_at',
  'finished_at',
  'clips',
].sort();
const BILLING_KEYS = ['credits_left', 'period', 'monthly_limit', 'monthly_usage'];

function expectClip(clip: Record<string, unknown>): void {
  expect(Object.keys(clip).sort()).toEqual(CLIP_KEYS);
  expect(clip.id).toMatch(UUID);
  expect(['submitted', 'queued', 'streaming', 'complete', 'error']).toContain(clip.status);
  for (const key of NULLABLE_TEXT) {
    const value = clip[key];
    expect(value === null || (typeof value === 'string' && value.length > 0)).toBe(true);
  }
  expect(clip.duration === null || typeof clip.duration === 'number').toBe(true);
  expect(typeof clip.suspect_degraded).toBe('boolean');
}

function expectGeneration(body: Record<string, any>, kind: string, clipCount: number): void {
  expect(Object.keys(body).sort()).toEqual(GENERATION_KEYS);
  expect(body.id).toMatch(UUID);
  expect(body.kind).toBe(kind);
  expect(body.account).toBe('default');
  expect(Number.isNaN(Date.parse(body.created_at))).toBe(false);
  expect(body.clips).toHaveLength(clipCount);
  for (const clip of body.clips) expectClip(clip);
}

/** Asserts the clip shape of the original Python Suno-API, which passed upstream clips on. */
function expectUpstreamClip(clip: Record<string, any>): void {
  expect(clip.id).toMatch(UUID);
  expect(typeof clip.title).toBe('string');
  expect(typeof clip.status).toBe('string');
  expect(typeof clip.audio_url).toBe('string');
  expect(typeof clip.video_url).toBe('string');
  expect(clip).toHaveProperty('image_url');
  expect(clip).toHaveProperty('model_name');
  expect(clip).toHaveProperty('created_at');
  expect(typeof clip.metadata).toBe('object');
  expect(typeof clip.metadata.prompt).toBe('string');
  for (const key of ['tags', 'gpt_description_prompt', 'type', 'duration', 'error_message']) {
    expect(clip.metadata).toHaveProperty(key);
  }
}

describe('routes', () => {
  let stack: Stack;
  /** A finished custom-mode generation shared by the read tests. */
  let song: Record<string, any>;

  beforeAll(async () => {
    stack = await startStack({ emulator: { generationS: 1, lyricsS: 0.5, clipDurationS: 3 } });
    const created = await stack.request('POST', '/v1/generations?wait=true', { body: SONG });
    expect(created.status).toBe(200);
    song = created.body;
  });

  afterEach(async () => {
    await stack?.resetUpstream();
  });

  afterAll(async () => {
    await stack?.close();
  });

  describe('native', () => {
    it('POST /v1/generations returns 202 with a generation', async () => {
      const response = await stack.request('POST', '/v1/generations', { body: SONG });

      expect(response.status).toBe(202);
      expect(response.contentType).toMatch(/^application\/json/);
      expectGeneration(response.body, 'custom', 2);
      expect(response.body.finished_at).toBeNull();
    });

    it('POST /v1/generations?wait=true returns 200 when complete', () => {
      expectGeneration(song, 'custom', 2);
      expect(song.status).toBe('complete');
      expect(Number.isNaN(Date.parse(song.finished_at))).toBe(false);
      for (const clip of song.clips) {
        expect(clip.audio_url).toMatch(/\.mp3$/);
        expect(clip.lyrics).toBe(LYRICS);
        expect(clip.type).toBe('gen');
      }
    });

    it('GET /v1/generations/:id returns the generation', async () => {
      const response = await stack.request('GET', `/v1/generations/${song.id}`);

      expect(response.status).toBe(200);
      expectGeneration(response.body, 'custom', 2);
      expect(response.body).toEqual(song);
    });

    it('GET /v1/clips/:id returns one clip', async () => {
      const response = await stack.request('GET', `/v1/clips/${song.clips[0].id}`);

      expect(response.status).toBe(200);
      expectClip(response.body);
      expect(response.body.id).toBe(song.clips[0].id);
      expect(response.body.status).toBe('complete');
    });

    it('GET /v1/clips/:id of an unknown clip is 404', async () => {
      const response = await stack.request('GET', `/v1/clips/${UNKNOWN_ID}`);

      expectProblem(response, 404, 'NOT_FOUND');
    });

    it('GET /v1/clips?ids= lists found clips and missing_ids', async () => {
      const [a, b] = song.clips.map((c: { id: string }) => c.id);

      const response = await stack.request('GET', `/v1/clips?ids=${a},${UNKNOWN_ID},${b}`);

      expect(response.status).toBe(200);
      expect(Object.keys(response.body).sort()).toEqual(['clips', 'missing_ids']);
      expect(response.body.clips.map((c: { id: string }) => c.id)).toEqual([a, b]);
      for (const clip of response.body.clips) expectClip(clip);
      expect(response.body.missing_ids).toEqual([UNKNOWN_ID]);
    });

    it('GET /v1/clips/:id/aligned-lyrics returns word timings', async () => {
      const response = await stack.request('GET', `/v1/clips/${song.clips[0].id}/aligned-lyrics`);

      expect(response.status).toBe(200);
      expect(response.body.clip_id).toBe(song.clips[0].id);
      const words = response.body.aligned_words as Record<string, any>[];
      expect(words.map((w) => w.word)).toEqual([
        'Paper',
        'boats',
        'along',
        'the',
        'river',
        'Carry',
        'me',
        'home,',
        'carry',
        'me',
        'home',
      ]);
      let previousEnd = 0;
      for (const word of words) {
        expect(Object.keys(word).sort()).toEqual([
          'end_s',
          'p_align',
          'start_s',
          'success',
          'word',
        ]);
        expect(word.start_s).toBeGreaterThanOrEqual(previousEnd);
        expect(word.end_s).toBeGreaterThan(word.start_s);
        expect(word.success).toBe(true);
        previousEnd = word.end_s;
      }
    });

    it('extend and concat build a whole song upstream', async () => {
      const parent = song.clips[0].id as string;

      const extended = await stack.request('POST', `/v1/clips/${parent}/extend?wait=true`, {
        body: {
          continue_at: 2.5,
          prompt: '[Verse 2]\nThe river bends, the lanterns glow',
          title: 'Paper Boats II',
          tags: 'folk',
          mv: 'chirp-v3-5',
        },
      });

      expect(extended.status).toBe(200);
      expectGeneration(extended.body, 'extend', 2);
      expect(extended.body.status).toBe('complete');
      const extendedId = extended.body.clips[0].id as string;
      const upstreamExtended = stack.emulator.state.clips.get(extendedId)!;
      expect(upstreamExtended.task).toBe('extend');
      expect(upstreamExtended.history).toEqual([{ id: parent, continue_at: 2.5, type: 'gen' }]);

      const concat = await stack.request('POST', `/v1/clips/${extendedId}/concat?wait=true`);

      expect(concat.status).toBe(200);
      expectGeneration(concat.body, 'concat', 1);
      expect(concat.body.status).toBe('complete');
      expect(concat.body.clips[0].type).toBe('concat');
      const upstreamConcat = stack.emulator.state.clips.get(concat.body.clips[0].id)!;
      expect(upstreamConcat.concatHistory?.map((entry) => entry.id)).toEqual([parent, extendedId]);
    });

    it('concat of a clip that was never extended is rejected', async () => {
      const response = await stack.request('POST', `/v1/clips/${song.clips[1].id}/concat`);

      expectProblem(response, 400, 'UPSTREAM_REJECTED');
      expect(response.body.detail).toContain('Bad history.');
    });

    it('lyrics can be created, read and awaited', async () => {
      const created = await stack.request('POST', '/v1/lyrics', {
        body: { prompt: 'a lighthouse keeper who misses the sea' },
      });

      expect(created.status).toBe(200);
      expect(created.body).toEqual({
        id: expect.any(String),
        status: 'running',
        title: null,
        text: null,
        error_message: null,
      });

      const read = await stack.request('GET', `/v1/lyrics/${created.body.id}`);
      expect(read.status).toBe(200);
      expect(read.body.id).toBe(created.body.id);
      expect(['running', 'complete']).toContain(read.body.status);

      const awaited = await stack.request(
        'GET',
        `/v1/lyrics/${created.body.id}?wait=true&timeout_s=5`,
      );
      expect(awaited.status).toBe(200);
      expect(awaited.body.status).toBe('complete');
      expect(awaited.body.text).toContain('[Chorus]');
      expect(awaited.body.title).toEqual(expect.any(String));
      expect(awaited.body.error_message).toBeNull();
    });

    it('POST /v1/lyrics?wait=true returns finished lyrics', async () => {
      const response = await stack.request('POST', '/v1/lyrics?wait=true&timeout_s=5', {
        body: { prompt: 'trains at midnight' },
      });

      expect(response.status).toBe(200);
      expect(response.body.status).toBe('complete');
      expect(response.body.text).toContain('[Verse]');
      expect(response.body.title).toEqual(expect.any(String));
    });

    it('GET /v1/credits returns pool and account credits', async () => {
      const response = await stack.request('GET', '/v1/credits');
      const upstream = stack.emulator.state.accounts.get(DEFAULT_ACCOUNT.id)!;

      expect(response.status).toBe(200);
      expect(Object.keys(response.body).sort()).toEqual([...BILLING_KEYS, 'accounts'].sort());
      expect(response.body.credits_left).toBe(upstream.credits);
      expect(response.body.period).toBe('month');
      expect(response.body.monthly_limit).toBe(2500);
      expect(response.body.monthly_usage).toBe(upstream.monthlyUsage);
      expect(response.body.monthly_usage).toBeGreaterThan(0);
      expect(response.body.accounts).toEqual([
        {
          id: 'default',
          credits_left: upstream.credits,
          period: 'month',
          monthly_limit: 2500,
          monthly_usage: upstream.monthlyUsage,
        },
      ]);
    });

    it('GET /v1/accounts returns state, token and breakers', async () => {
      const response = await stack.request('GET', '/v1/accounts');

      expect(response.status).toBe(200);
      const [account] = response.body.accounts;
      expect(account).toMatchObject({
        id: 'default',
        state: 'active',
        usable: true,
        session_id_known: true,
        last_refresh_error: null,
      });
      expect(Number.isNaN(Date.parse(account.token_expires_at))).toBe(false);
      expect(Number.isNaN(Date.parse(account.last_refresh_at))).toBe(false);
      expect(account.token_age_s).toEqual(expect.any(Number));
      expect(account.circuit_breakers).toEqual(expect.any(Array));
    });

    it('GET /docs-json lists the native routes', async () => {
      const response = await stack.request('GET', '/docs-json');

      expect(response.status).toBe(200);
      expect(Object.keys(response.body.paths)).toEqual(
        expect.arrayContaining([
          '/v1/generations',
          '/v1/generations/{id}',
          '/v1/clips',
          '/v1/lyrics',
          '/v1/credits',
          '/v1/accounts',
        ]),
      );
    });
  });

  describe('compat', () => {
    it('GET / returns the original liveness body', async () => {
      const response = await stack.request('GET', '/');

      expect(response.status).toBe(200);
      expect(response.body).toEqual({ code: 0, msg: 'success', data: null });
    });

    it('POST /generate returns the upstream batch shape', async () => {
      const response = await stack.request('POST', '/generate', {
        body: { prompt: LYRICS, tags: 'folk', title: 'Compat', mv: 'chirp-v3-5' },
      });

      expect(response.status).toBe(200);
      expect(Object.keys(response.body).sort()).toEqual([
        'batch_size',
        'clips',
        'created_at',
        'id',
        'metadata',
        'status',
      ]);
      expect(response.body.clips).toHaveLength(2);
      for (const clip of response.body.clips) {
        expectUpstreamClip(clip);
        expect(clip.metadata.prompt).toBe(LYRICS);
        expect(clip.title).toBe('Compat');
      }
    });

    it('POST /generate with continue_clip_id extends', async () => {
      const parent = song.clips[1].id as string;

      const response = await stack.request('POST', '/generate', {
        body: {
          prompt: '[Bridge]\nOne more time',
          tags: 'folk',
          title: 'Compat II',
          mv: 'chirp-v3-5',
          continue_clip_id: parent,
          continue_at: 1,
        },
      });

      expect(response.status).toBe(200);
      expect(response.body.clips).toHaveLength(2);
      const upstream = stack.emulator.state.clips.get(response.body.clips[0].id)!;
      expect(upstream.task).toBe('extend');
      expect(upstream.history?.[0]).toEqual({ id: parent, continue_at: 1, type: 'gen' });
    });

    it('POST /generate/description-mode returns the upstream batch shape', async () => {
      const response = await stack.request('POST', '/generate/description-mode', {
        body: {
          gpt_description_prompt: 'a sea shanty about coffee',
          make_instrumental: false,
          mv: 'chirp-v3-5',
          prompt: '',
        },
      });

      expect(response.status).toBe(200);
      expect(response.body.clips).toHaveLength(2);
      for (const clip of response.body.clips) {
        expectUpstreamClip(clip);
        expect(clip.metadata.gpt_description_prompt).toBe('a sea shanty about coffee');
      }
    });

    it('GET /feed/:ids returns a bare clip array', async () => {
      const ids = song.clips.map((c: { id: string }) => c.id);

      const response = await stack.request('GET', `/feed/${ids.join(',')}`);

      expect(response.status).toBe(200);
      expect(Array.isArray(response.body)).toBe(true);
      expect(response.body.map((c: { id: string }) => c.id)).toEqual(ids);
      for (const clip of response.body) {
        expectUpstreamClip(clip);
        expect(clip.status).toBe('complete');
        expect(clip.audio_url).toMatch(/\.mp3$/);
        expect(clip.metadata.duration).toEqual(expect.any(Number));
      }
    });

    it('GET /feed/:ids takes many ids and skips unknown ones', async () => {
      const known = song.clips.map((c: { id: string }) => c.id);
      const unknown = Array.from(
        { length: 20 },
        (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
      );

      const response = await stack.request('GET', `/feed/${[...unknown, ...known].join(',')}`);

      expect(response.status).toBe(200);
      expect(response.body.map((c: { id: string }) => c.id)).toEqual(known);
    });

    it('POST /generate/lyrics and GET /lyrics/:id follow the original shapes', async () => {
      const created = await stack.request('POST', '/generate/lyrics', {
        body: { prompt: 'rain on a tin roof' },
      });

      expect(created.status).toBe(200);
      expect(created.body).toEqual({ id: expect.any(String) });

      const read = await stack.request('GET', `/lyrics/${created.body.id}`);
      expect(read.status).toBe(200);
      expect(Object.keys(read.body).sort()).toEqual(['status', 'text', 'title']);
      expect(typeof read.body.text).toBe('string');
      expect(typeof read.body.title).toBe('string');
    });

    it('POST /generate/lyrics/ with the trailing slash works', async () => {
      const response = await stack.request('POST', '/generate/lyrics/', {
        body: { prompt: 'rain on a tin roof' },
      });

      expect(response.status).toBe(200);
      expect(response.body).toEqual({ id: expect.any(String) });
    });

    it('GET /get_credits returns the four billing fields', async () => {
      const response = await stack.request('GET', '/get_credits');
      const upstreamCredits = (await stack.stats()).credits[DEFAULT_ACCOUNT.id];

      expect(response.status).toBe(200);
      expect(Object.keys(response.body).sort()).toEqual([...BILLING_KEYS].sort());
      expect(response.body.credits_left).toBe(upstreamCredits);
      expect(response.body.period).toBe('month');
    });
  });
});
