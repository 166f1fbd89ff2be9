import { GenerationView } from '../generation/generation';
import { Clip } from '../suno/clip';

/** A clip in the upstream's own shape, as the original Python Suno-API passed it through. */
export function toUpstreamClip(clip: Clip) {
  return {
    id: clip.id,
    title: clip.title ?? '',
    status: clip.status,
    audio_url: clip.audio_url ?? clip.stream_url ?? '',
    video_url: clip.video_url ?? '',
    image_url: clip.image_url,
    model_name: clip.model,
    created_at: clip.created_at,
    metadata: {
      prompt: clip.lyrics ?? '',
      gpt_description_prompt: clip.gpt_description_prompt,
      tags: clip.tags,
      negative_tags: clip.negative_tags,
      type: clip.type,
      duration: clip.duration,
      error_message: clip.error_message,
    },
  };
}

export function toUpstreamBatch(generation: GenerationView) {
  return {
    id: generation.id,
    clips: generation.clips.map(toUpstreamClip),
    metadata: {},
    status: 'complete',
    created_at: generation.created_at,
    batch_size: 1,
  };
}
