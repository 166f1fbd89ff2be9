import type { OperationClass } from '../resilience/retry-policy';
import { UpstreamHost } from './upstream-error';

export type { OperationClass };

/** One upstream operation of the protocol, named as in metrics, spans and the emulator. */
export type UpstreamOperation =
  | 'clerk_client'
  | 'clerk_token'
  | 'generate'
  | 'feed'
  | 'clip'
  | 'billing'
  | 'lyrics_submit'
  | 'lyrics_get'
  | 'concat'
  | 'stems'
  | 'aligned_lyrics'
  | 'captcha_check';

export interface UpstreamRequest {
  operation: UpstreamOperation;
  opClass: OperationClass;
  host: UpstreamHost;
  accountId: string;
  method: 'GET' | 'POST';
  /** Path with query, appended to the host's base URL. */
  path: string;
  headers?: Record<string, string>;
  body?: unknown;
}

export interface UpstreamResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** Parsed JSON body. */
  body: unknown;
  setCookie: string[];
}
