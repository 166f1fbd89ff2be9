/** A stored response to replay for a repeated Idempotency-Key. */
export interface StoredResponse {
  status: number;
  body: unknown;
  contentType?: string;
}

export type BeginResult =
  | { kind: 'started' }
  | { kind: 'replay'; response: StoredResponse }
  | { kind: 'in_progress' }
  | { kind: 'mismatch' };

/**
 * Records which keys were seen with which request fingerprint. Implementations must make
 * `begin` atomic, because two concurrent requests with one key must not both start.
 */
export abstract class IdempotencyStore {
  abstract begin(key: string, fingerprint: string, ttlMs: number): Promise<BeginResult>;
  abstract complete(key: string, response: StoredResponse, ttlMs: number): Promise<void>;
  /** Forgets a key whose request failed in a way the client may simply retry. */
  abstract abandon(key: string): Promise<void>;
}

interface Entry {
  fingerprint: string;
  expiresAtMs: number;
  response?: StoredResponse;
}

/** Process-local store: enough for one replica; several replicas need a shared one. */
export class MemoryIdempotencyStore extends IdempotencyStore {
  private readonly entries = new Map<string, Entry>();

  async begin(key: string, fingerprint: string, ttlMs: number): Promise<BeginResult> {
    this.sweep();
    const entry = this.entries.get(key);
    if (!entry) {
      this.entries.set(key, { fingerprint, expiresAtMs: Date.now() + ttlMs });

      return { kind: 'started' };
    }
    if (entry.fingerprint !== fingerprint) return { kind: 'mismatch' };
    if (!entry.response) return { kind: 'in_progress' };

    return { kind: 'replay', response: entry.response };
  }

  async complete(key: string, response: StoredResponse, ttlMs: number): Promise<void> {
    const entry = this.entries.get(key);
    if (entry) {
      entry.response = response;
      entry.expiresAtMs = Date.now() + ttlMs;
    }
  }

  async abandon(key: string): Promise<void> {
    this.entries.delete(key);
  }

  private sweep(): void {
    const now = Date.now();
    for (const [key, entry] of this.entries) {
      if (entry.expiresAtMs <= now) this.entries.delete(key);
    }
  }
}
