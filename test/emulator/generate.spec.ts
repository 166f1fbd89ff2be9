import { mp3DurationSeconds } from './mp3';
import type { RunningEmulator } from './server';
import {
  control,
  generate,
  getClip,
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

describe('generate', () => {
  let emulator: RunningEmulator;
  let jwt: string;

  beforeEach(async () => {
    emulator = await startQuiet({ generationS: 60, runningJobCap: 10 });
    jwt = await mintJwt(emulator);
  });

  afterEach(async () => {
    await emulator.close();
  });

  async function patchConfig(body: Record<string, unknown>): Promise<void> {
    const response = await control(emulator, 'PATCH', '/config', body);
    expect(response.status).toBe(200);
  }

  async function post(path: string, body: unknown): Promise<{ status: number; body: unknown }> {
    const response = await studio(emulator, jwt, path, body);

    return { status: response.status, body: await response.json() };
  }

  it('submits two clips for 10 credits', async () => {
    const batch = await generate(emulator, jwt, {
      prompt: '[Verse]\nla la',
      tags: 'pop',
      title: 'T',
      mv: 'chirp-v4',
    });
    const after = await stats(emulator);

    expect(batch).toMatchObject({ status: 'complete', batch_size: 1, major_model_version: 'v4' });
    expect(batch.clips).toHaveLength(2);
    for (const clip of batch.clips) {
      expect(clip).toMatchObject({
        status: 'submitted',
        audio_url: '',
        video_url: '',
        image_url: null,
      });
      expect(clip.metadata).toMatchObject({
        duration: null,
        prompt: '[Verse]\nla la',
        type: 'gen',
        tags: 'pop',
      });
    }
    expect(batch.clips[0].id).not.toBe(batch.clips[1].id);
    expect(after.credits.demo).toBe(490);
    expect(after.generations).toBe(1);
    expect(after.clips).toBe(2);
  });

  it('accepts the v2-web path', async () => {
    const result = await post('/api/generate/v2-web/', {
      gpt_description_prompt: 'x',
      metadata: { create_mode: 'simple' },
    });

    expect(result.status).toBe(200);
  });

  it('moves clips through every status', async () => {
    await patchConfig({ generation_s: 2 });
    const batch = await generate(emulator, jwt);
    const { phases } = await pollClip(emulator, jwt, batch.clips[0].id, isSettled);
    const [, , streaming, complete] = phases;
    const id = batch.clips[0].id;

    expect(phases.map((clip) => clip.status)).toEqual([
      'submitted',
      'queued',
      'streaming',
      'complete',
    ]);
    expect(streaming.audio_url).toBe(`${emulator.url}/audiopipe/${id}`);
    expect(streaming.image_url).toBe(`${emulator.url}/cdn/image_${id}.jpeg`);
    expect(streaming.metadata.duration).toBeNull();
    expect(complete.audio_url).toBe(`${emulator.url}/cdn/${id}.mp3`);
    expect(complete.video_url).toBe(`${emulator.url}/cdn/${id}.mp4`);
    expect(complete.metadata.duration).toBeGreaterThan(1.9);
    expect((await getClip(emulator, jwt, batch.clips[1].id)).status).toBe('complete');
  });

  it('serves MP3 audio as long as metadata.duration', async () => {
    await patchConfig({ generation_s: 0.3 });
    const batch = await generate(emulator, jwt);
    const { clip } = await pollClip(emulator, jwt, batch.clips[0].id, isSettled);
    const response = await fetch(clip.audio_url);
    const mp3 = Buffer.from(await response.arrayBuffer());
    const stream = Buffer.from(
      await (await fetch(`${emulator.url}/audiopipe/${clip.id}`)).arrayBuffer(),
    );

    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('audio/mpeg');
    expect(Number(response.headers.get('content-length'))).toBe(mp3.length);
    expect(Math.abs(mp3DurationSeconds(mp3) - (clip.metadata.duration as number))).toBeLessThan(
      0.05,
    );
    expect(stream.equals(mp3)).toBe(true);
  });

  it('serves byte ranges of the MP3', async () => {
    await patchConfig({ generation_s: 0.1 });
    const batch = await generate(emulator, jwt);
    const { clip } = await pollClip(emulator, jwt, batch.clips[0].id, isSettled);
    const whole = Buffer.from(await (await fetch(clip.audio_url)).arrayBuffer());
    const partial = await fetch(clip.audio_url, { headers: { range: 'bytes=100-199' } });
    const beyond = await fetch(clip.audio_url, { headers: { range: `bytes=${whole.length}-` } });

    expect(partial.status).toBe(206);
    expect(partial.headers.get('content-range')).toBe(`bytes 100-199/${whole.length}`);
    expect(Buffer.from(await partial.arrayBuffer()).equals(whole.subarray(100, 200))).toBe(true);
    expect(beyond.status).toBe(416);
  });

  it('answers 402 once credits run out', async () => {
    await control(emulator, 'POST', '/accounts', { id: 'demo', credits: 15 });

    expect((await post('/api/generate/v2/', { prompt: 'a' })).status).toBe(200);
    expect(await post('/api/generate/v2/', { prompt: 'b' })).toEqual({
      status: 402,
      body: { detail: 'Insufficient credits' },
    });
    expect((await stats(emulator)).credits.demo).toBe(5);
  });

  it('caps running jobs with 429', async () => {
    await patchConfig({ running_job_cap: 1, generation_s: 0.3 });

    expect((await post('/api/generate/v2/', { prompt: 'a' })).status).toBe(200);
    expect(await post('/api/generate/v2/', { prompt: 'b' })).toEqual({
      status: 429,
      body: { detail: 'Too many running jobs' },
    });
    expect((await stats(emulator)).running).toEqual({ demo: 1 });
    await sleep(350);
    expect((await post('/api/generate/v2/', { prompt: 'c' })).status).toBe(200);
  });

  it('fails and refunds moderated clips', async () => {
    await patchConfig({ generation_s: 1 });
    const batch = await generate(emulator, jwt, {
      gpt_description_prompt: 'in the style of ForbiddenBand',
    });
    expect((await stats(emulator)).credits.demo).toBe(490);
    const { clip, phases } = await pollClip(emulator, jwt, batch.clips[0].id, isSettled);
    const feed = await readJson<unknown[]>(
      await studio(emulator, jwt, `/api/feed/?ids=${batch.clips[0].id}`),
    );

    expect(phases.map((phase) => phase.status)).toEqual(['submitted', 'queued', 'error']);
    expect(clip.audio_url).toBe(`${emulator.url}/cdn/None.mp3`);
    expect(clip.metadata).toMatchObject({
      error_type: 'moderation',
      refund_credits: true,
      duration: null,
    });
    expect(clip.metadata.error_message).toMatch(/artist name/);
    expect((await getClip(emulator, jwt, batch.clips[1].id)).status).toBe('error');
    expect((await stats(emulator)).credits.demo).toBe(500);
    expect(feed).toEqual([]);
    expect((await fetch(clip.audio_url)).status).toBe(404);
  });

  it('fails only the second clip when configured', async () => {
    await patchConfig({ generation_s: 0.2, second_clip_fails: true });
    const batch = await generate(emulator, jwt);
    const first = await pollClip(emulator, jwt, batch.clips[0].id, isSettled);
    const second = await pollClip(emulator, jwt, batch.clips[1].id, isSettled);

    expect(first.clip.status).toBe('complete');
    expect(second.clip.status).toBe('error');
    expect((await stats(emulator)).credits.demo).toBe(495);
  });

  it('requires a captcha token when the gate is on', async () => {
    await patchConfig({ captcha_required: true });
    const check = await post('/api/c/check', { ctype: 'generation' });

    expect(check.body).toEqual({ required: true, captcha_version: 'turnstile' });
    expect(await post('/api/generate/v2/', { prompt: 'a', token: null })).toEqual({
      status: 422,
      body: { detail: 'Token validation failed.' },
    });
    expect(
      (await post('/api/generate/v2/', { prompt: 'a', token: 'solved', token_provider: 2 })).status,
    ).toBe(200);
  });

  it('turns the captcha gate on after N generations', async () => {
    await patchConfig({ captcha_after_generations: 1 });

    expect((await post('/api/c/check', { ctype: 'generation' })).body).toMatchObject({
      required: false,
    });
    expect((await post('/api/generate/v2/', { prompt: 'a' })).status).toBe(200);
    expect((await post('/api/c/check', { ctype: 'generation' })).body).toMatchObject({
      required: true,
    });
    expect((await post('/api/generate/v2/', { prompt: 'b' })).status).toBe(422);
  });

  it('rejects continue_clip_id without task extend', async () => {
    const batch = await generate(emulator, jwt);

    expect(
      await post('/api/generate/v2/', {
        prompt: 'a',
        continue_clip_id: batch.clips[0].id,
        continue_at: 30,
      }),
    ).toEqual({
      status: 400,
      body: { detail: 'Inconsistent task and generation params' },
    });
  });

  it('records extend history', async () => {
    const parent = (await generate(emulator, jwt)).clips[0];
    const extended = await post('/api/generate/v2/', {
      prompt: 'more',
      task: 'extend',
      continue_clip_id: parent.id,
      continue_at: 30.5,
    });
    const unknown = await post('/api/generate/v2/', {
      prompt: 'x',
      task: 'extend',
      continue_clip_id: 'nope',
      continue_at: 1,
    });
    const clips = (extended.body as { clips: ClipJson[] }).clips;

    expect(clips[0].metadata.history).toEqual([{ id: parent.id, continue_at: 30.5, type: 'gen' }]);
    expect(unknown).toEqual({ status: 404, body: { detail: 'Clip not found' } });
  });

  it('rejects paid models on a free plan', async () => {
    await control(emulator, 'POST', '/accounts', { id: 'demo', plan: 'free' });

    for (const mv of ['chirp-v4', 'chirp-auk', 'chirp-bluejay', 'chirp-crow', 'chirp-fenix']) {
      expect(await post('/api/generate/v2/', { prompt: 'a', mv })).toEqual({
        status: 400,
        body: { detail: 'Invalid request.' },
      });
    }
    expect((await post('/api/generate/v2/', { prompt: 'a', mv: 'chirp-v3-5' })).status).toBe(200);
  });

  it('counts prompt limits in code points', async () => {
    const tooLong = { status: 400, body: { detail: 'Prompt too long' } };

    expect(await post('/api/generate/v2/', { prompt: 'a', tags: 'x'.repeat(1001) })).toEqual(
      tooLong,
    );
    expect(await post('/api/generate/v2/', { prompt: 'é'.repeat(5001) })).toEqual(tooLong);
    expect(await post('/api/generate/v2/', { gpt_description_prompt: 'd'.repeat(3001) })).toEqual(
      tooLong,
    );
    // 1000 emoji are 2000 UTF-16 units but 1000 code points.
    expect((await post('/api/generate/v2/', { prompt: 'a', tags: '🎵'.repeat(1000) })).status).toBe(
      200,
    );
  });

  it('answers 422 validation lists for bad bodies', async () => {
    const broken = await fetch(`${emulator.url}/api/generate/v2/`, {
      method: 'POST',
      headers: { authorization: `Bearer ${jwt}`, 'content-type': 'application/json' },
      body: '{"prompt": ',
    });
    const wrongType = await post('/api/generate/v2/', { prompt: 5, make_instrumental: 'yes' });

    expect(broken.status).toBe(422);
    expect((await readJson<{ detail: { loc: unknown[] }[] }>(broken)).detail[0].loc).toEqual([
      'body',
    ]);
    expect(wrongType.status).toBe(422);
    expect(
      (wrongType.body as { detail: { loc: unknown[] }[] }).detail.map((error) => error.loc),
    ).toEqual([
      ['body', 'prompt'],
      ['body', 'make_instrumental'],
    ]);
    expect((await stats(emulator)).generations).toBe(0);
  });

  it('answers 413 for a body over 1 MiB', async () => {
    const response = await post('/api/generate/v2/', { prompt: 'x'.repeat(1024 * 1024) });

    expect(response.status).toBe(413);
    expect((response.body as { detail: string }).detail).toMatch(/exceeds 1048576 bytes/);
    expect((await stats(emulator)).generations).toBe(0);
  });

  it('marks complete lyrics of a degraded account', async () => {
    await patchConfig({ generation_s: 0.1 });
    await control(emulator, 'POST', '/accounts', { id: 'demo', degraded: true });
    const batch = await generate(emulator, jwt, { prompt: 'my own words' });
    const { clip } = await pollClip(emulator, jwt, batch.clips[0].id, isSettled);

    expect(clip.metadata.prompt).toBe('This is a fake app. my own words');
  });

  it('concatenates an extended clip', async () => {
    const parent = (await generate(emulator, jwt)).clips[0];
    const extended = (
      await post('/api/generate/v2/', {
        prompt: 'b',
        task: 'extend',
        continue_clip_id: parent.id,
        continue_at: 10,
      })
    ).body as { clips: ClipJson[] };
    const child = extended.clips[0];
    const concat = await post('/api/generate/concat/v2/', { clip_id: child.id });
    const clip = concat.body as ClipJson;

    expect(concat.status).toBe(200);
    expect(clip.status).toBe('submitted');
    expect(clip.metadata.type).toBe('concat');
    expect(clip.metadata.concat_history).toEqual([
      { id: parent.id, continue_at: 10, type: 'gen' },
      { id: child.id, continue_at: null, type: 'gen' },
    ]);
    expect(await post('/api/generate/concat/v2/', { clip_id: parent.id })).toEqual({
      status: 400,
      body: { detail: 'Bad history.' },
    });
    expect((await post('/api/generate/concat/v2/', { clip_id: 'nope' })).status).toBe(404);
    expect((await stats(emulator)).generations).toBe(3);
    expect((await stats(emulator)).clips).toBe(5);
  });

  it('splits a clip into vocal and instrumental stems', async () => {
    const source = (await generate(emulator, jwt)).clips[0];
    const stems = await post(`/api/edit/stems/${source.id}`, {});
    const clips = (stems.body as { clips: ClipJson[] }).clips;

    expect(stems.status).toBe(200);
    expect(clips).toHaveLength(2);
    expect(clips.map((clip) => clip.metadata.stem_from_id)).toEqual([source.id, source.id]);
    expect(clips[1].title).toMatch(/Instrumental/);
    expect((await post('/api/edit/stems/nope', {})).status).toBe(404);
  });
});
