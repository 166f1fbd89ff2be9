import { AsyncLocalStorage } from 'node:async_hooks';

/** Per-request facts that log lines and upstream calls pick up without passing them around. */
export interface RequestContext {
  requestId: string;
  /** Id of the API key that authenticated the request. */
  clientId?: string;
  /** Account serving the request, once one is chosen. */
  accountId?: string;
  route?: string;
  /** Epoch ms by which the response is due; upstream retries stop before it. */
  deadlineMs?: number;
}

const storage = new AsyncLocalStorage<RequestContext>();

export const requestContext = {
  run<T>(ctx: RequestContext, fn: () => T): T {
    return storage.run(ctx, fn);
  },
  get(): RequestContext | undefined {
    return storage.getStore();
  },
  /** Records which account serves the current request, for its log lines. */
  setAccount(accountId: string): void {
    const ctx = storage.getStore();
    if (ctx) ctx.accountId = accountId;
  },
};
