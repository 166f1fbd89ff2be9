import { Logger } from '@nestjs/common';
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import type Redis from 'ioredis';

/**
 * Where rotated cookies survive a restart. Clerk rotates `__client`; a gateway that only
 * reads the cookie from its environment loses the rotation on restart and, once the old value
 * expires, every call fails until someone pastes a new cookie.
 */
export abstract class SessionStore {
  /** Returns the stored cookie header, or undefined when none was stored for this configured cookie. */
  abstract load(accountId: string, configuredCookie: string): Promise<string | undefined>;
  abstract save(accountId: string, configuredCookie: string, cookieHeader: string): Promise<void>;
}

/** Used without Redis or without an encryption key: rotations live only in memory. */
export class MemorySessionStore extends SessionStore {
  async load(): Promise<string | undefined> {
    return undefined;
  }

  async save(): Promise<void> {
    // Nothing to persist to; the jar in memory already contains the rotation.
  }
}

interface StoredSession {
  /** Hash of the cookie configured when this was saved; a newly pasted cookie wins over it. */
  configured: string;
  iv: string;
  tag: string;
  data: string;
}

/** Cookies encrypted with AES-256-GCM in Redis, one key per account. */
export class RedisSessionStore extends SessionStore {
  private readonly logger = new Logger('SessionStore');

  constructor(
    private readonly redis: Redis,
    private readonly key: Buffer,
    private readonly prefix = 'suno-gateway:session:',
  ) {
    super();
  }

  async load(accountId: string, configuredCookie: string): Promise<string | undefined> {
    const raw = await this.redis.get(this.prefix + accountId);
    if (!raw) return undefined;
    try {
      const stored = JSON.parse(raw) as StoredSession;
      if (stored.configured !== fingerprint(configuredCookie)) return undefined;
      const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(stored.iv, 'base64'));
      decipher.setAuthTag(Buffer.from(stored.tag, 'base64'));

      return Buffer.concat([
        decipher.update(Buffer.from(stored.data, 'base64')),
        decipher.final(),
      ]).toString('utf8');
    } catch (err) {
      this.logger.warn(
        { account: accountId, err },
        `stored session of ${accountId} could not be decrypted; using the configured cookie`,
      );

      return undefined;
    }
  }

  async save(accountId: string, configuredCookie: string, cookieHeader: string): Promise<void> {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const data = Buffer.concat([cipher.update(cookieHeader, 'utf8'), cipher.final()]);
    const stored: StoredSession = {
      configured: fingerprint(configuredCookie),
      iv: iv.toString('base64'),
      tag: cipher.getAuthTag().toString('base64'),
      data: data.toString('base64'),
    };
    await this.redis.set(this.prefix + accountId, JSON.stringify(stored));
  }
}

function fingerprint(cookie: string): string {
  return createHash('sha256').update(cookie).digest('hex');
}
