import type { RunningEmulator } from './server';
import {
  control,
  generate,
  isSettled,
  mintJwt,
  pollClip,
  readJson,
  sleep,
  startQuiet,
  stats,
  studio,
  type ClipJson,
} from './spec-helpers';

describe('studio read routes', () => {
  let emulator: RunningEmulator;
  let jwt: string;

  beforeEach(async () => {
    emulator = await startQuiet({ generationS: 60, runningJobCap: 100, lyricsS: 0.2 });
    jwt = await mintJwt(emulator);
  });

  afterEach(async () => {
    await emulator.close();
  });

  async function get<T = Record<string, unknown>>(
    path: string,
  ): Promise<{ status: number; body: T }> {
    const response = await studio(emulator, jwt, path);

    return { status: response.status, body: (await response.json()) as T };
  }

  async function generateMany(batches: number): Promise<string[]> {
    const ids: string[] = [];
    for (let i = 0; i < batches; i += 1) {
      ids.push(
        ...(await generate(emulator, jwt, { prompt: `song ${i}` })).clips.map((clip) => clip.id),
      );
    }

    return ids;
  }

  it('requires a Bearer JWT on studio routes', async () => {
    for (const path of [
      '/api/feed/v2',
      '/api/billing/info/',
      '/api/clip/x',
      '/api/generate/lyrics/x',
    ]) {
      const response = await fetch(`${emulator.url}${path}`);
      expect(response.status).toBe(401);
      expect(await response.json()).toEqual({ detail: 'Unauthorized' });
    }
  });

  it('v1 feed omits unknown ids', async () => {
    const [a, b] = await generateMany(1);

    expect(
      (await get<ClipJson[]>(`/api/feed/?ids=${a},unknown,${b}`)).body.map((clip) => clip.id),
    ).toEqual([a, b]);
    expect((await get<ClipJson[]>('/api/feed/?ids=unknown')).body).toEqual([]);
  });

  it('pages the library newest first', async () => {
    const ids = await generateMany(11);
    const first = await get<ClipJson[]>('/api/feed/');
    const second = await get<ClipJson[]>('/api/feed/?page=1');

    expect(first.body).toHaveLength(20);
    expect(first.body[0].id).toBe(ids[21]);
    expect(second.body.map((clip) => clip.id)).toEqual([ids[1], ids[0]]);
  });

  it('wraps feed v2 results with totals', async () => {
    const ids = await generateMany(11);
    const byIds = await get(`/api/feed/v2?ids=${ids[0]},${ids[1]}`);
    const page = await get<{ clips: ClipJson[]; num_total_results: number; current_page: number }>(
      '/api/feed/v2?page=1',
    );

    expect(byIds.body).toMatchObject({ num_total_results: 2, current_page: 0 });
    expect(page.body.num_total_results).toBe(22);
    expect(page.body.current_page).toBe(1);
    expect(page.body.clips).toHaveLength(2);
  });

  it('pages feed v3 with a cursor', async () => {
    const ids = await generateMany(3);
    const first = await readJson<{ clips: ClipJson[]; next_cursor: string; has_more: boolean }>(
      await studio(emulator, jwt, '/api/feed/v3', { cursor: null, limit: 4, filters: {} }),
    );
    const second = await readJson<{
      clips: ClipJson[];
      next_cursor: string | null;
      has_more: boolean;
    }>(await studio(emulator, jwt, '/api/feed/v3', { cursor: first.next_cursor, limit: 4 }));
    const broken = await studio(emulator, jwt, '/api/feed/v3', { cursor: 'bm90LWEtbnVtYmVy' });

    expect(first.clips.map((clip) => clip.id)).toEqual([ids[5], ids[4], ids[3], ids[2]]);
    expect(first.has_more).toBe(true);
    expect(second.clips.map((clip) => clip.id)).toEqual([ids[1], ids[0]]);
    expect(second).toMatchObject({ has_more: false, next_cursor: null });
    expect(broken.status).toBe(400);
  });

  it('hides unknown and foreign clips', async () => {
    const [id] = await generateMany(1);
    await control(emulator, 'POST', '/accounts', { id: 'other', cookie: 'other-client' });
    const otherJwt = await mintJwt(
      emulator,
      'other-client',
      emulator.state.accounts.get('other')?.sessionId,
    );

    expect((await get<ClipJson>(`/api/clip/${id}`)).body.id).toBe(id);
    expect(await get('/api/clip/unknown')).toEqual({ status: 404, body: { detail: 'Not found' } });
    expect((await studio(emulator, otherJwt, `/api/clip/${id}`)).status).toBe(404);
  });

  it('reports billing for pro and free plans', async () => {
    await generateMany(1);
    const pro = await get<
      Record<string, unknown> & { models: { external_key: string; can_use: boolean }[] }
    >('/api/billing/info/');
    await control(emulator, 'POST', '/accounts', { id: 'demo', plan: 'free' });
    const free = await get<
      Record<string, unknown> & { models: { external_key: string; can_use: boolean }[] }
    >('/api/billing/info/');

    expect(pro.body).toMatchObject({
      total_credits_left: 490,
      monthly_usage: 10,
      period: 'month',
      is_active: true,
      credit_packs: [],
    });
    expect(pro.body.models.find((model) => model.external_key === 'chirp-crow')).toMatchObject({
      can_use: true,
      max_lengths: { prompt: 5000, tags: 1000, gpt_description_prompt: 3000 },
    });
    expect(free.body.period).toBeNull();
    expect(free.body.models.find((model) => model.external_key === 'chirp-v4')?.can_use).toBe(
      false,
    );
  });

  it('generates lyrics after lyrics_s without charging', async () => {
    const submit = await studio(emulator, jwt, '/api/generate/lyrics/', {
      prompt: 'lighthouse keeper storms',
    });
    const { id } = await readJson<{ id: string }>(submit);
    const running = await get(`/api/generate/lyrics/${id}`);
    await sleep(250);
    const done = await get<{ text: string; title: string; status: string }>(
      `/api/generate/lyrics/${id}`,
    );

    expect(running.body).toMatchObject({ text: '', title: '', status: 'running' });
    expect(done.body.status).toBe('complete');
    expect(done.body.text).toContain('[Verse]');
    expect(done.body.text).toContain('[Chorus]');
    expect(done.body.text).toContain('lighthouse');
    expect(done.body.title).toBe('Lighthouse Keeper');
    expect((await stats(emulator)).credits.demo).toBe(500);
  });

  it('fails lyrics with blocked words', async () => {
    const { id } = await readJson<{ id: string }>(
      await studio(emulator, jwt, '/api/generate/lyrics/', { prompt: 'like forbiddenband' }),
    );
    await sleep(250);
    const failed = await get<{ status: string; error_message: string }>(
      `/api/generate/lyrics/${id}`,
    );

    expect(failed.body.status).toBe('error');
    expect(failed.body.error_message).toMatch(/artist name/);
    expect((await get('/api/generate/lyrics/unknown')).status).toBe(404);
  });

  it('aligns lyrics over the song once complete', async () => {
    await control(emulator, 'PATCH', '/config', { generation_s: 0.2 });
    const batch = await generate(emulator, jwt, {
      prompt: '[Verse]\none two three\n[Chorus]\nfour five',
    });
    const early = await get(`/api/gen/${batch.clips[0].id}/aligned_lyrics/v2/`);
    const { clip } = await pollClip(emulator, jwt, batch.clips[0].id, isSettled);
    const aligned = await get<{
      aligned_words: { word: string; start_s: number; end_s: number; success: boolean }[];
      hoot_cer: number;
    }>(`/api/gen/${clip.id}/aligned_lyrics/v2/`);
    const words = aligned.body.aligned_words;

    expect(early.body).toMatchObject({ aligned_words: [] });
    expect(words.map((word) => word.word)).toEqual(['one', 'two', 'three', 'four', 'five']);
    for (const [i, word] of words.entries()) {
      expect(word.start_s).toBeLessThan(word.end_s);
      if (i > 0) expect(word.start_s).toBeGreaterThanOrEqual(words[i - 1].end_s);
    }
    expect(words[4].end_s).toBeLessThanOrEqual(clip.metadata.duration as number);
    expect(aligned.body.hoot_cer).toBe(0.1);
    expect((await get('/api/gen/unknown/aligned_lyrics/v2/')).status).toBe(404);
  });

  it('serves cover images and no video', async () => {
    await control(emulator, 'PATCH', '/config', { generation_s: 0.1 });
    const batch = await generate(emulator, jwt);
    const { clip } = await pollClip(emulator, jwt, batch.clips[0].id, isSettled);
    const image = await fetch(clip.image_url as string);

    expect(image.status).toBe(200);
    expect(image.headers.get('content-type')).toBe('image/png');
    expect((await fetch(clip.video_url)).status).toBe(404);
  });

  it('rejects unknown paths and methods', async () => {
    const unknown = await fetch(`${emulator.url}/api/nothing-here`);
    const wrongMethod = await fetch(`${emulator.url}/api/billing/info/`, { method: 'DELETE' });

    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toEqual({ detail: 'Not Found' });
    expect(wrongMethod.status).toBe(405);
    expect((await stats(emulator)).requests).toMatchObject({ unknown: 1, billing: 1 });
  });
});
