import { RetryBudget, RetryBudgetOptions, RetryBudgets } from './retry-budget';

describe('RetryBudget', () => {
  let clockMs: number;
  const options = (overrides: Partial<RetryBudgetOptions> = {}): RetryBudgetOptions => ({
    windowMs: 10_000,
    ratio: 0.1,
    minRetries: 2,
    now: () => clockMs,
    ...overrides,
  });

  beforeEach(() => {
    clockMs = 1_000_000;
  });

  it('allows the minimum retries without traffic', () => {
    const sut = new RetryBudget(options());

    expect(sut.tryAcquire()).toBe(true);
    expect(sut.tryAcquire()).toBe(true);
    expect(sut.tryAcquire()).toBe(false);
  });

  it('allows ratio of calls when above the minimum', () => {
    const sut = new RetryBudget(options());
    for (let i = 0; i < 50; i++) {
      sut.recordCall();
    }

    const granted = Array.from({ length: 10 }, () => sut.tryAcquire()).filter(Boolean).length;

    expect(granted).toBe(5);
  });

  it('stays within a fractional allowance', () => {
    const sut = new RetryBudget(options({ minRetries: 0 }));
    for (let i = 0; i < 25; i++) {
      sut.recordCall();
    }

    const granted = Array.from({ length: 10 }, () => sut.tryAcquire()).filter(Boolean).length;

    expect(granted).toBe(2);
  });

  it('records nothing for a rejected retry', () => {
    const sut = new RetryBudget(options({ minRetries: 1 }));
    sut.tryAcquire();

    sut.tryAcquire();

    expect(sut.totals()).toEqual({ calls: 0, retries: 1 });
  });

  it('refills after the window', () => {
    const sut = new RetryBudget(options());
    sut.tryAcquire();
    sut.tryAcquire();
    expect(sut.tryAcquire()).toBe(false);

    clockMs += 10_000;

    expect(sut.tryAcquire()).toBe(true);
  });

  it('keeps counts until the window has passed', () => {
    const sut = new RetryBudget(options());
    sut.tryAcquire();
    sut.tryAcquire();

    clockMs += 8_999;

    expect(sut.tryAcquire()).toBe(false);
  });

  it('expires old buckets one at a time', () => {
    const sut = new RetryBudget(options({ minRetries: 0, ratio: 1 }));
    sut.recordCall();
    clockMs += 5_000;
    sut.recordCall();

    clockMs += 5_000;

    expect(sut.totals().calls).toBe(1);
  });

  it('forgets calls after the window so the allowance falls back', () => {
    const sut = new RetryBudget(options());
    for (let i = 0; i < 100; i++) {
      sut.recordCall();
    }

    clockMs += 20_000;

    expect(sut.totals()).toEqual({ calls: 0, retries: 0 });
  });

  it('reuses slots across many windows', () => {
    const sut = new RetryBudget(options({ minRetries: 0, ratio: 1 }));
    for (let step = 0; step < 100; step++) {
      sut.recordCall();
      clockMs += 1_000;
    }

    expect(sut.totals().calls).toBe(9);
  });
});

describe('RetryBudgets', () => {
  it('keeps one budget per account', () => {
    const sut = new RetryBudgets({ windowMs: 1000, ratio: 0, minRetries: 1 });

    expect(sut.forAccount('a')).toBe(sut.forAccount('a'));
    expect(sut.forAccount('a').tryAcquire()).toBe(true);
    expect(sut.forAccount('a').tryAcquire()).toBe(false);
    expect(sut.forAccount('b').tryAcquire()).toBe(true);
  });
});
