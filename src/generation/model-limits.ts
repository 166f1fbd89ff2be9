import { AppError } from '../common/app-error';
import { ErrorCode } from '../common/error-codes';

export const MODELS = [
  'chirp-v3-0',
  'chirp-v3-5',
  'chirp-v4',
  'chirp-auk',
  'chirp-bluejay',
  'chirp-crow',
  'chirp-fenix',
] as const;
export type Model = (typeof MODELS)[number];
export const DEFAULT_MODEL: Model = 'chirp-crow';

interface Limits {
  prompt: number;
  tags: number;
  negative_tags: number;
  title: number;
  gpt_description_prompt: number;
}

/** Older models take shorter fields; limits as the billing info's `max_lengths` reported them in 2025. */
const OLDER: Limits = {
  prompt: 3000,
  tags: 200,
  negative_tags: 200,
  title: 80,
  gpt_description_prompt: 200,
};
const NEWER: Limits = {
  prompt: 5000,
  tags: 1000,
  negative_tags: 1000,
  title: 100,
  gpt_description_prompt: 3000,
};

export function limitsFor(model: string): Limits {
  return model === 'chirp-v3-0' || model === 'chirp-v3-5' || model === 'chirp-v4' ? OLDER : NEWER;
}

/** Rejects over-long fields before any upstream call, counting Unicode code points. */
export function checkLengths(
  model: string,
  fields: Partial<Record<keyof Limits, string | null | undefined>>,
): void {
  const limits = limitsFor(model);
  for (const [name, value] of Object.entries(fields) as Array<[keyof Limits, string | undefined]>) {
    // class-validator's IsOptional lets null through, so null counts as an absent field.
    if (value === undefined || value === null) continue;
    const length = [...value].length;
    if (length > limits[name]) {
      throw new AppError({
        status: 400,
        code: ErrorCode.ValidationFailed,
        detail: `${name} is ${length} characters long; ${model} accepts at most ${limits[name]}.`,
        extra: {
          errors: [
            {
              field: name,
              message: `must be at most ${limits[name]} characters for ${model}`,
              limit: limits[name],
              actual: length,
            },
          ],
        },
      });
    }
  }
}
