import { extractClientValue } from './accounts';
import { patchConfig } from './config';
import { parseFaultSpec } from './faults';
import { detailReply, jsonReply, parseJson, type Reply } from './http';
import type { Account, AccountSettings, EmulatorState } from './state';
import {
  InvalidInput,
  checkBoolean,
  checkNonEmptyString,
  checkNumber,
  rejectUnknownKeys,
  requireRecord,
} from './validate';

export const CONTROL_PREFIX = '/__emulator';

export interface ControlRequest {
  method: string;
  /** Path without the query string. */
  path: string;
  body: string;
  now: number;
}

type ControlHandler = (state: EmulatorState, request: ControlRequest) => Reply;

const CONTROL_ROUTES: Record<string, Partial<Record<string, ControlHandler>>> = {
  '/__emulator/faults': {
    POST: (state, request) => {
      const fault = state.faults.add(parseFaultSpec(jsonBody(request)), request.now);
      return jsonReply(200, { id: fault.id });
    },
    GET: (state, request) => jsonReply(200, { faults: state.faults.list(request.now) }),
    DELETE: (state) => {
      state.faults.clear();
      return jsonReply(200, { cleared: true });
    },
  },
  '/__emulator/stats': {
    GET: (state, request) => jsonReply(200, state.statsSnapshot(request.now)),
  },
  '/__emulator/config': {
    GET: (state) => jsonReply(200, state.config),
    PATCH: (state, request) => {
      state.config = patchConfig(state.config, jsonBody(request));
      return jsonReply(200, state.config);
    },
  },
  '/__emulator/accounts': {
    GET: (state) => jsonReply(200, { accounts: [...state.accounts.values()].map(accountView) }),
    POST: (state, request) => {
      const settings = parseAccountSettings(jsonBody(request), state);
      return jsonReply(200, accountView(state.upsertAccount(settings)));
    },
  },
  '/__emulator/reset': {
    POST: (state) => {
      state.reset();
      return jsonReply(200, { reset: true });
    },
  },
};

/**
 * Serves the control API. Invalid bodies get 400 with the reason in `detail`. These routes
 * are never hit by faults and are not counted in the request stats.
 */
export function handleControl(state: EmulatorState, request: ControlRequest): Reply {
  const path = request.path.endsWith('/') ? request.path.slice(0, -1) : request.path;
  const methods = CONTROL_ROUTES[path];
  if (methods === undefined) return detailReply(404, 'Not Found');
  const handler = methods[request.method];
  if (handler === undefined) return detailReply(405, 'Method Not Allowed');

  try {
    return handler(state, request);
  } catch (error) {
    if (error instanceof InvalidInput) return detailReply(400, error.message);
    throw error;
  }
}

function jsonBody(request: ControlRequest): unknown {
  const parsed = parseJson(request.body);
  if (!parsed.ok) {
    throw new InvalidInput(`request body is not valid JSON: ${parsed.error}`);
  }

  return parsed.value;
}

const ACCOUNT_FIELDS = [
  'id',
  'cookie',
  'credits',
  'session_id',
  'plan',
  'signed_out',
  'revoked',
  'degraded',
] as const;

function parseAccountSettings(input: unknown, state: EmulatorState): AccountSettings {
  const body = requireRecord(input, 'account');
  rejectUnknownKeys(body, ACCOUNT_FIELDS);
  const id = checkNonEmptyString(body.id, 'id');
  if (body.cookie === undefined && !state.accounts.has(id)) {
    throw new InvalidInput(`cookie is required to create account ${JSON.stringify(id)}`);
  }
  if (body.plan !== undefined && body.plan !== 'free' && body.plan !== 'pro') {
    throw new InvalidInput(`plan must be "free" or "pro", got ${JSON.stringify(body.plan)}`);
  }
  const optional = <T>(key: string, check: (value: unknown, key: string) => T): T | undefined =>
    body[key] === undefined ? undefined : check(body[key], key);

  return {
    id,
    clientValue: optional('cookie', (value, key) =>
      extractClientValue(checkNonEmptyString(value, key)),
    ),
    credits: optional('credits', (value, key) =>
      checkNumber(value, key, { min: 0, integer: true }),
    ),
    sessionId: optional('session_id', checkNonEmptyString),
    plan: body.plan as AccountSettings['plan'],
    signedOut: optional('signed_out', checkBoolean),
    revoked: optional('revoked', checkBoolean),
    degraded: optional('degraded', checkBoolean),
  };
}

/** Returns the account as the control API shows it, without cookie values. */
function accountView(account: Account): Record<string, unknown> {
  return {
    id: account.id,
    user_id: account.userId,
    session_id: account.sessionId,
    plan: account.plan,
    credits: account.credits,
    monthly_usage: account.monthlyUsage,
    signed_out: account.signedOut,
    revoked: account.revoked,
    degraded: account.degraded,
    generations: account.generations,
    clips: account.library.length,
    client_values: account.clientValues.length,
  };
}
