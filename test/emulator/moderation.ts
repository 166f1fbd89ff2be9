import type { ClipFailure } from './clips';

/** Checks whether `text` contains one of the blocked words, which are stored lower-cased. */
export function containsBlockedWord(blockedWords: readonly string[], text: string): boolean {
  if (blockedWords.length === 0 || text === '') return false;
  const lower = text.toLowerCase();

  return blockedWords.some((word) => lower.includes(word));
}

export interface ModeratedFields {
  prompt: string;
  gpt_description_prompt: string;
  tags: string;
  title: string;
}

/**
 * Returns the failure that the upstream reports late for a generate request with a blocked
 * word, or null. A word in the description, style or title reads as an artist name, and a
 * word in the lyrics as copyrighted text.
 */
export function moderateGenerate(
  blockedWords: readonly string[],
  fields: ModeratedFields,
): ClipFailure | null {
  const hit = (text: string): boolean => containsBlockedWord(blockedWords, text);
  if (hit(fields.gpt_description_prompt) || hit(fields.tags) || hit(fields.title)) {
    return {
      type: 'moderation',
      message:
        "Your description contained an artist name. We don't write lyrics or music in the style of a specific artist.",
    };
  }
  if (hit(fields.prompt)) {
    return {
      type: 'moderation',
      message: 'Your lyrics contain copyrighted material. Please write original lyrics.',
    };
  }

  return null;
}

export const LYRICS_MODERATION_MESSAGE =
  "Your prompt contained an artist name. We don't write lyrics in the style of a specific artist.";
