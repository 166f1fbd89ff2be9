import { UpstreamError } from '../suno/upstream-error';
import { GateRequest, RateLimitGate } from './rate-limit-gate';

const START = Date.parse('2026-01-01T00:00:00Z');
const REQUEST: GateRequest = { accountId: 'acct-1', host: 'studio', operation: 'feed' };

describe('RateLimitGate', () => {
  let sut: RateLimitGate;

  beforeEach(() => {
    jest.useFakeTimers({ now: START });
    sut = new RateLimitGate();
  });

  afterEach(() => {
    jest.useRealTimers();
  });

  it('passes at once when not blocked', async () => {
    await expect(sut.waitOrReject(REQUEST)).resolves.toBeUndefined();
  });

  it('holds calls until the block ends', async () => {
    sut.block('acct-1', 'studio', START + 2000);
    const passed = jest.fn();

    const waiting = sut.waitOrReject({ ...REQUEST, deadlineMs: START + 5000 }).then(passed);
    await jest.advanceTimersByTimeAsync(1999);
    expect(passed).not.toHaveBeenCalled();

    await jest.advanceTimersByTimeAsync(1);
    await waiting;
    expect(passed).toHaveBeenCalledTimes(1);
    expect(Date.now()).toBe(START + 2000);
  });

  it('rejects with 429 when the deadline is shorter', async () => {
    sut.block('acct-1', 'studio', START + 2000);

    const error = await sut
      .waitOrReject({ ...REQUEST, deadlineMs: START + 1500 })
      .catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(UpstreamError);
    expect(error).toMatchObject({
      kind: 'http',
      status: 429,
      retryAfterMs: 2000,
      mayHaveReachedUpstream: false,
    });
  });

  it('waits out a block extended while waiting', async () => {
    sut.block('acct-1', 'studio', START + 1000);
    const passed = jest.fn();

    const waiting = sut.waitOrReject(REQUEST).then(passed);
    await jest.advanceTimersByTimeAsync(500);
    sut.block('acct-1', 'studio', START + 3000);
    await jest.advanceTimersByTimeAsync(2000);
    expect(passed).not.toHaveBeenCalled();

    await jest.advanceTimersByTimeAsync(500);
    await waiting;
    expect(passed).toHaveBeenCalledTimes(1);
  });

  it('keeps the longer of two blocks', () => {
    sut.block('acct-1', 'studio', START + 3000);
    sut.block('acct-1', 'studio', START + 1000);

    expect(sut.blockedUntil('acct-1', 'studio')).toBe(START + 3000);
  });

  it('blocks only the given account and host', async () => {
    sut.block('acct-1', 'studio', START + 2000);

    expect(sut.blockedUntil('acct-1', 'clerk')).toBeUndefined();
    expect(sut.blockedUntil('acct-2', 'studio')).toBeUndefined();
    await expect(
      sut.waitOrReject({ ...REQUEST, accountId: 'acct-2', deadlineMs: START }),
    ).resolves.toBeUndefined();
  });

  it('forgets a block once it has passed', () => {
    sut.block('acct-1', 'studio', START + 2000);

    jest.advanceTimersByTime(2000);

    expect(sut.blockedUntil('acct-1', 'studio')).toBeUndefined();
  });
});
