import { Injectable } from '@nestjs/common';
import { Generation } from './generation';

/**
 * In-memory generations of this process, with a bounded size. A Redis-backed store is the
 * way to share them between replicas.
 */
@Injectable()
export class GenerationStore {
  private static readonly MAX_ENTRIES = 50_000;
  private readonly byId = new Map<string, Generation>();
  private readonly byClip = new Map<string, string>();

  save(generation: Generation): void {
    this.byId.set(generation.id, generation);
    for (const clip of generation.clips) this.byClip.set(clip.id, generation.id);
    this.evict();
  }

  get(id: string): Generation | undefined {
    return this.byId.get(id);
  }

  byClipId(clipId: string): Generation | undefined {
    const id = this.byClip.get(clipId);

    return id ? this.byId.get(id) : undefined;
  }

  /** True when some generation already owns the clip; reconciliation must not adopt it twice. */
  owns(clipId: string): boolean {
    return this.byClip.has(clipId);
  }

  /** Generations whose clips are not known yet. */
  pendingReconciliation(): Generation[] {
    return [...this.byId.values()].filter((g) => g.clips.length === 0 && !g.timedOut);
  }

  private evict(): void {
    while (this.byId.size > GenerationStore.MAX_ENTRIES) {
      const oldest = this.byId.keys().next().value as string;
      const generation = this.byId.get(oldest);
      for (const clip of generation?.clips ?? []) this.byClip.delete(clip.id);
      this.byId.delete(oldest);
    }
  }
}
