import { UpstreamError } from '../suno/upstream-error';

/**
 * Operation class, which decides how a call may be retried. `submit` calls spend credits
 * and are not idempotent.
 */
export type OperationClass = 'auth' | 'read' | 'submit';

/**
 * Reason a logical call ended in failure, used as the `reason` label of
 * `suno_upstream_give_ups_total`.
 */
export type GiveUpReason =
  | 'budget_exhausted'
  | 'max_attempts'
  | 'deadline'
  | 'not_retryable'
  | 'ambiguous_submit'
  | 'rate_limited'
  | 'rate_limit_gate'
  | 'circuit_open'
  | 'bulkhead_full';

/**
 * Follow-up of a failed attempt. `rethrow` is for responses the caller handles itself, 4xx
 * such as 401 or 404. They are not failures of the call path, so they are neither retried
 * nor counted as give-ups.
 */
export type RetryDecision =
  | { action: 'retry_now'; reason: string }
  | { action: 'retry_after_backoff'; reason: string }
  | { action: 'give_up'; reason: GiveUpReason }
  | { action: 'rethrow' };

/** Statuses that ask the client to try again later. Auth and read calls retry them. */
const RETRYABLE_STATUSES = new Set([429, 502, 503, 504]);

/**
 * Classifies a failed attempt by operation class. It does not check attempts, budget or
 * deadline; the retry loop does that for every `retry_*` decision.
 */
export function decideRetry(opClass: OperationClass, error: UpstreamError): RetryDecision {
  const isSubmit = opClass === 'submit';
  switch (error.kind) {
    case 'circuit_open':
    case 'bulkhead_full':
      return { action: 'give_up', reason: error.kind };
    case 'connect':
      // The request never left, so even a submit cannot have spent credits.
      return { action: 'retry_after_backoff', reason: 'connect' };
    case 'reset':
      // A socket dropped before any response is usually a stale keep-alive connection,
      // so a fresh one is tried at once.
      return isSubmit
        ? { action: 'give_up', reason: 'ambiguous_submit' }
        : { action: 'retry_now', reason: 'reset' };
    case 'timeout':
    case 'bad_response':
      return isSubmit
        ? { action: 'give_up', reason: 'ambiguous_submit' }
        : { action: 'retry_after_backoff', reason: error.kind };
    case 'http':
      return decideHttp(isSubmit, error.status);
    default: {
      const unknownKind: never = error.kind;
      throw new Error(`unknown upstream failure kind ${String(unknownKind)}`);
    }
  }
}

function decideHttp(isSubmit: boolean, status: number | undefined): RetryDecision {
  if (status === undefined) {
    return { action: 'give_up', reason: 'not_retryable' };
  }
  if (status === 429 && isSubmit) {
    return { action: 'give_up', reason: 'rate_limited' };
  }
  if (RETRYABLE_STATUSES.has(status)) {
    // A gateway error on a submit may come after the upstream accepted the job.
    return isSubmit
      ? { action: 'give_up', reason: 'ambiguous_submit' }
      : { action: 'retry_after_backoff', reason: `status_${status}` };
  }
  if (status >= 500) {
    return { action: 'give_up', reason: isSubmit ? 'ambiguous_submit' : 'not_retryable' };
  }

  return { action: 'rethrow' };
}

/** Asks the gate to hold the account back: only 429 and 503 carry a `Retry-After` we obey. */
export function retryAfterToObey(error: UpstreamError): number | undefined {
  const obeys = error.kind === 'http' && (error.status === 429 || error.status === 503);

  return obeys ? error.retryAfterMs : undefined;
}
