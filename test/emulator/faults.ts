import { STATUS_CODES } from 'node:http';
import { ROUTE_NAMES, type Reply, type RouteName } from './http';
import {
  InvalidInput,
  checkNonEmptyString,
  checkNumber,
  rejectUnknownKeys,
  requireRecord,
} from './validate';

export const FAULT_ACTIONS = ['status', 'delay', 'hang', 'reset_before', 'reset_after'] as const;
export type FaultAction = (typeof FAULT_ACTIONS)[number];

/** A route name, or `*` for every route outside the control API (unknown paths included). */
export type FaultMatch = RouteName | '*';

/** The fault as given to `POST /__emulator/faults`, after validation and defaults. */
export interface FaultSpec {
  match: FaultMatch;
  action: FaultAction;
  /** Probability in [0, 1] that a matching request is hit. */
  rate: number;
  /** Maximum number of hits, after which the fault is spent. Null means no limit. */
  count: number | null;
  /** Number of matching requests to let through before the first hit. */
  after: number;
  status: number | null;
  /** Response body sent as-is. Null sends `{"detail": <reason phrase>}`. */
  body: string | null;
  content_type: string;
  retry_after: string | null;
  delay_ms: number;
  duration_ms: number | null;
  /** Seed of the fault's own random generator, for repeatable `rate` tests. Null uses Math.random. */
  seed: number | null;
}

export interface Fault {
  readonly id: string;
  readonly spec: FaultSpec;
  readonly expiresAt: number | null;
  readonly random: () => number;
  hits: number;
  /** Matching requests seen while active, including those let through by `after` or `rate`. */
  seen: number;
}

const FIELDS = [
  'match',
  'action',
  'rate',
  'count',
  'after',
  'status',
  'body',
  'content_type',
  'retry_after',
  'delay_ms',
  'duration_ms',
  'seed',
] as const;

const STATUS_ONLY_FIELDS = ['status', 'body', 'content_type', 'retry_after'] as const;

/** Validates a fault body and applies defaults. Throws InvalidInput naming the first bad field. */
export function parseFaultSpec(input: unknown): FaultSpec {
  const body = requireRecord(input, 'fault');
  rejectUnknownKeys(body, FIELDS);
  const action = parseAction(body.action);
  for (const key of STATUS_ONLY_FIELDS) {
    if (action !== 'status' && body[key] !== undefined) {
      throw new InvalidInput(`${key} applies only to action "status", not "${action}"`);
    }
  }
  if (action !== 'delay' && body.delay_ms !== undefined) {
    throw new InvalidInput(`delay_ms applies only to action "delay", not "${action}"`);
  }

  return {
    match: parseMatch(body.match),
    action,
    rate: body.rate === undefined ? 1 : checkNumber(body.rate, 'rate', { min: 0, max: 1 }),
    count: optionalInteger(body.count, 'count', 1),
    after: optionalInteger(body.after, 'after', 0) ?? 0,
    status: action === 'status' ? checkStatus(body.status) : null,
    body: body.body === undefined ? null : bodyText(body.body),
    content_type:
      body.content_type === undefined
        ? 'application/json'
        : checkNonEmptyString(body.content_type, 'content_type'),
    retry_after: parseRetryAfter(body.retry_after),
    delay_ms: action === 'delay' ? checkDelay(body.delay_ms) : 0,
    duration_ms: optionalInteger(body.duration_ms, 'duration_ms', 1),
    seed: optionalInteger(body.seed, 'seed', 0),
  };
}

function parseAction(value: unknown): FaultAction {
  if (!FAULT_ACTIONS.includes(value as FaultAction)) {
    throw new InvalidInput(
      `action must be one of ${FAULT_ACTIONS.join(', ')}, got ${JSON.stringify(value)}`,
    );
  }

  return value as FaultAction;
}

function parseMatch(value: unknown): FaultMatch {
  if (value === '*' || ROUTE_NAMES.includes(value as RouteName)) {
    return value as FaultMatch;
  }

  throw new InvalidInput(
    `match must be "*" or a route name (${ROUTE_NAMES.join(', ')}), got ${JSON.stringify(value)}`,
  );
}

function checkStatus(value: unknown): number {
  if (value === undefined) {
    throw new InvalidInput('status is required for action "status"');
  }

  return checkNumber(value, 'status', { min: 100, max: 599, integer: true });
}

function checkDelay(value: unknown): number {
  if (value === undefined) {
    throw new InvalidInput('delay_ms is required for action "delay"');
  }

  return checkNumber(value, 'delay_ms', { min: 0, max: 600_000, integer: true });
}

function optionalInteger(value: unknown, key: string, min: number): number | null {
  return value === undefined ? null : checkNumber(value, key, { min, integer: true });
}

function bodyText(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function parseRetryAfter(value: unknown): string | null {
  if (value === undefined) return null;
  if (typeof value === 'string' && value.trim() !== '') return value;

  return String(checkNumber(value, 'retry_after', { min: 0, integer: true }));
}

/** Registry of faults in creation order. The oldest active fault that matches and hits wins. */
export class FaultRegistry {
  private faults: Fault[] = [];
  private nextId = 1;

  add(spec: FaultSpec, now: number): Fault {
    const fault: Fault = {
      id: `fault_${this.nextId}`,
      spec,
      expiresAt: spec.duration_ms === null ? null : now + spec.duration_ms,
      random: spec.seed === null ? Math.random : seededRandom(spec.seed),
      hits: 0,
      seen: 0,
    };
    this.nextId += 1;
    this.faults.push(fault);

    return fault;
  }

  clear(): void {
    this.faults = [];
  }

  /**
   * Returns the fault that hits this request, or null. Faults are tried oldest first. A fault
   * that lets the request through (because of `after` or `rate`) passes it on to the next one.
   */
  pick(route: string, now: number): Fault | null {
    for (const fault of this.faults) {
      const { spec } = fault;
      if (!isActive(fault, now) || (spec.match !== '*' && spec.match !== route)) continue;

      fault.seen += 1;
      if (fault.seen <= spec.after) continue;
      if (spec.rate < 1 && fault.random() >= spec.rate) continue;

      fault.hits += 1;

      return fault;
    }

    return null;
  }

  list(now: number): Record<string, unknown>[] {
    return this.faults.map((fault) => ({
      id: fault.id,
      ...fault.spec,
      hits: fault.hits,
      seen: fault.seen,
      active: isActive(fault, now),
      expires_at: fault.expiresAt === null ? null : new Date(fault.expiresAt).toISOString(),
    }));
  }
}

function isActive(fault: Fault, now: number): boolean {
  const spent = fault.spec.count !== null && fault.hits >= fault.spec.count;
  const expired = fault.expiresAt !== null && now >= fault.expiresAt;

  return !spent && !expired;
}

/**
 * Marsaglia's xorshift32 generator, good enough to spread fault hits repeatably. The seed is
 * mixed with a constant because an all-zero state would stay zero.
 */
function seededRandom(seed: number): () => number {
  let state = (seed ^ 0x9e3779b9) >>> 0 || 1;

  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;

    return state / 4294967296;
  };
}

/** Builds the response of a `status` fault. */
export function faultReply(spec: FaultSpec): Reply {
  const status = spec.status ?? 500;
  const headers: Record<string, string> = { 'content-type': spec.content_type };
  if (spec.retry_after !== null) headers['retry-after'] = spec.retry_after;
  const body = spec.body ?? JSON.stringify({ detail: STATUS_CODES[status] ?? 'Error' });

  return { status, headers, body };
}
