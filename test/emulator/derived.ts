import { randomUUID } from 'node:crypto';
import { renderClip, type ClipRecord } from './clips';
import {
  detailReply,
  jsonReply,
  parseJsonObject,
  validationReply,
  type Reply,
  type RequestContext,
} from './http';
import type { Account } from './state';

/**
 * Copies `source` into a new clip that starts its own lifecycle now. Concat and stems cost
 * no credits here, but they count as a generation in the stats.
 */
function deriveClip(
  ctx: RequestContext,
  source: ClipRecord,
  changes: Partial<ClipRecord> & { batchId: string; batchIndex: number },
): ClipRecord {
  return {
    ...source,
    id: randomUUID(),
    createdAt: ctx.now,
    createdAtIso: new Date(ctx.now).toISOString(),
    generationMs: ctx.state.config.generation_s * 1000,
    history: null,
    concatHistory: null,
    stemFromId: null,
    failure: null,
    ...changes,
  };
}

function renderAll(
  ctx: RequestContext,
  account: Account,
  clips: ClipRecord[],
): Record<string, unknown>[] {
  const options = { publicUrl: ctx.state.publicUrl, degraded: account.degraded };

  return clips.map((clip) => renderClip(clip, ctx.now, options));
}

/** `POST /api/generate/concat/v2/` `{clip_id}`: the whole song of an extended clip. */
export function handleConcat(ctx: RequestContext, account: Account): Reply {
  const parsed = parseJsonObject(ctx.body);
  if (!parsed.ok) return parsed.reply;
  const clipId = parsed.body.clip_id;
  if (typeof clipId !== 'string') {
    return validationReply('missing', ['body', 'clip_id'], 'Field required', parsed.body);
  }

  const source = ctx.state.findClip(account, clipId);
  if (source === undefined) return detailReply(404, 'Clip not found');
  if (source.history === null || source.history.length === 0) {
    return detailReply(400, 'Bad history.');
  }

  const clip = deriveClip(ctx, source, {
    batchId: randomUUID(),
    batchIndex: 0,
    type: 'concat',
    task: null,
    concatHistory: [...source.history, { id: source.id, continue_at: null, type: 'gen' }],
  });
  ctx.state.addClips(account, [clip]);

  return jsonReply(200, renderAll(ctx, account, [clip])[0]);
}

/** `POST /api/edit/stems/{clip_id}`: a vocals clip and an instrumental clip. */
export function handleStems(ctx: RequestContext, account: Account): Reply {
  const source = ctx.state.findClip(account, ctx.params[0]);
  if (source === undefined) return detailReply(404, 'Clip not found');

  const batchId = randomUUID();
  const clips = [
    deriveClip(ctx, source, {
      batchId,
      batchIndex: 0,
      title: `${source.title} (Vocals)`,
      task: 'gen_stem',
      stemFromId: source.id,
    }),
    deriveClip(ctx, source, {
      batchId,
      batchIndex: 1,
      title: `${source.title} (Instrumental)`,
      task: 'gen_stem',
      stemFromId: source.id,
      makeInstrumental: true,
      lyrics: '',
    }),
  ];
  ctx.state.addClips(account, clips);

  return jsonReply(200, { clips: renderAll(ctx, account, clips) });
}
