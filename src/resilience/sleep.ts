/** Resolves after `ms` milliseconds; a plain timer, so jest fake timers control it. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
