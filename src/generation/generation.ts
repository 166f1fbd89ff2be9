import { Clip, isTerminal } from '../suno/clip';

export type GenerationKind = 'custom' | 'description' | 'extend' | 'concat';

export type GenerationStatus =
  'submitted' | 'queued' | 'streaming' | 'complete' | 'partial' | 'error' | 'timeout' | 'unknown';

/** Fields that identify a submit among the account's newest clips when its response was lost. */
export interface SubmitFingerprint {
  prompt: string | null;
  gpt_description_prompt: string | null;
  tags: string | null;
  title: string | null;
}

/**
 * One create/extend/concat request and its clips. `unknown` means the submit's response was
 * lost (timeout) and reconciliation has not yet found its clips.
 */
export interface Generation {
  id: string;
  kind: GenerationKind;
  accountId: string;
  clips: Clip[];
  createdAt: Date;
  finishedAt?: Date;
  /** Set while the clips are not known yet (ambiguous submit). */
  fingerprint?: SubmitFingerprint;
  submittedAtMs: number;
  timedOut: boolean;
  reconciling: boolean;
}

const PROGRESS: Record<string, number> = {
  submitted: 0,
  queued: 1,
  streaming: 2,
  complete: 3,
  error: 3,
};

/** Derives the generation's status from its clips (partial: some complete, some failed). */
export function generationStatus(generation: Generation): GenerationStatus {
  const { clips } = generation;
  if (clips.length === 0) return generation.timedOut ? 'timeout' : 'unknown';
  const complete = clips.filter((c) => c.status === 'complete').length;
  const failed = clips.filter((c) => c.status === 'error').length;
  if (complete === clips.length) return 'complete';
  if (failed === clips.length) return 'error';
  if (complete + failed === clips.length) return 'partial';
  if (generation.timedOut) return 'timeout';
  const least = Math.min(
    ...clips.filter((c) => !isTerminal(c.status)).map((c) => PROGRESS[c.status]),
  );

  return (['submitted', 'queued', 'streaming'] as const)[least] ?? 'queued';
}

export function isFinished(status: GenerationStatus): boolean {
  return (
    status === 'complete' || status === 'partial' || status === 'error' || status === 'timeout'
  );
}

/** The generation as the API returns it. */
export interface GenerationView {
  id: string;
  kind: GenerationKind;
  status: GenerationStatus;
  account: string;
  created_at: string;
  finished_at: string | null;
  clips: Clip[];
}

export function viewGeneration(generation: Generation): GenerationView {
  return {
    id: generation.id,
    kind: generation.kind,
    status: generationStatus(generation),
    account: generation.accountId,
    created_at: generation.createdAt.toISOString(),
    finished_at: generation.finishedAt?.toISOString() ?? null,
    clips: generation.clips,
  };
}
