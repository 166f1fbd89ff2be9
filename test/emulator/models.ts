/** Length limits of the text fields, in Unicode code points. */
export interface MaxLengths {
  prompt: number;
  tags: number;
  negative_tags: number;
  title: number;
  gpt_description_prompt: number;
}

export interface ModelInfo {
  /** The `mv` value of a generate request. */
  key: string;
  majorVersion: string;
  /** Whether a free-plan account may use it. */
  free: boolean;
  maxLengths: MaxLengths;
}

// Older models allow shorter text than v4.5 and later, as the upstream's billing info reports.
const OLDER_LIMITS: MaxLengths = {
  prompt: 3000,
  tags: 200,
  negative_tags: 200,
  title: 80,
  gpt_description_prompt: 200,
};
const NEWER_LIMITS: MaxLengths = {
  prompt: 5000,
  tags: 1000,
  negative_tags: 1000,
  title: 100,
  gpt_description_prompt: 3000,
};

export const MODELS: readonly ModelInfo[] = [
  { key: 'chirp-v3-0', majorVersion: 'v3', free: true, maxLengths: OLDER_LIMITS },
  { key: 'chirp-v3-5', majorVersion: 'v3.5', free: true, maxLengths: OLDER_LIMITS },
  { key: 'chirp-v4', majorVersion: 'v4', free: false, maxLengths: OLDER_LIMITS },
  { key: 'chirp-auk', majorVersion: 'v4.5', free: false, maxLengths: NEWER_LIMITS },
  { key: 'chirp-bluejay', majorVersion: 'v4.5+', free: false, maxLengths: NEWER_LIMITS },
  { key: 'chirp-crow', majorVersion: 'v5', free: false, maxLengths: NEWER_LIMITS },
  { key: 'chirp-fenix', majorVersion: 'v5.5', free: false, maxLengths: NEWER_LIMITS },
];

/** Model used when a generate request has no `mv`. */
export const DEFAULT_MODEL = 'chirp-v3-5';

const BY_KEY = new Map(MODELS.map((model) => [model.key, model]));

export function findModel(key: string): ModelInfo | undefined {
  return BY_KEY.get(key);
}

export function majorVersionOf(key: string): string {
  return BY_KEY.get(key)?.majorVersion ?? 'v3.5';
}
