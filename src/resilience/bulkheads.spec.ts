import { Logger } from '@nestjs/common';
import { UpstreamError } from '../suno/upstream-error';
import { Bulkheads, BulkheadsOptions, ReleaseFn } from './bulkheads';
import { resilienceInstruments, seriesValue } from './resilience.fixtures';

const START = Date.parse('2026-01-01T00:00:00Z');

describe('Bulkheads', () => {
  let metrics: ReturnType<typeof resilienceInstruments>;
  let warn: jest.SpyInstance;

  const create = (overrides: Partial<BulkheadsOptions> = {}) =>
    new Bulkheads({ limit: 2, queueSize: 1, queueTimeoutMs: 5000, metrics, ...overrides });
  const fill = async (sut: Bulkheads, count: number): Promise<ReleaseFn[]> => {
    const releases: ReleaseFn[] = [];
    for (let i = 0; i < count; i++) {
      releases.push(await sut.acquire('acct-1'));
    }

    return releases;
  };

  beforeEach(() => {
    jest.useFakeTimers({ now: START });
    warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    metrics = resilienceInstruments();
  });

  afterEach(() => {
    jest.useRealTimers();
    jest.restoreAllMocks();
  });

  it('grants slots up to the limit', async () => {
    const sut = create();

    await fill(sut, 2);

    expect(sut.inFlight('acct-1')).toBe(2);
    expect(sut.inFlight('acct-2')).toBe(0);
  });

  it('queues a caller until a slot frees', async () => {
    const sut = create();
    const [first] = await fill(sut, 2);
    const granted = jest.fn();

    const queued = sut.acquire('acct-1').then(granted);
    await Promise.resolve();
    expect(granted).not.toHaveBeenCalled();
    expect(sut.snapshot()).toEqual([{ accountId: 'acct-1', inFlight: 2, queued: 1, limit: 2 }]);

    first();
    await queued;
    expect(granted).toHaveBeenCalledTimes(1);
    expect(sut.inFlight('acct-1')).toBe(2);
  });

  it('rejects when the queue is full', async () => {
    const sut = create();
    await fill(sut, 2);
    void sut.acquire('acct-1').catch(() => undefined);

    const error = await sut.acquire('acct-1').catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(UpstreamError);
    expect(error).toMatchObject({ kind: 'bulkhead_full', mayHaveReachedUpstream: false });
    expect(await seriesValue(metrics.bulkheadRejections, { account: 'acct-1' })).toBe(1);
  });

  it('rejects at once without a queue', async () => {
    const sut = create({ queueSize: 0 });
    await fill(sut, 2);

    await expect(sut.acquire('acct-1')).rejects.toMatchObject({ kind: 'bulkhead_full' });
  });

  it('rejects a queued caller after the queue timeout', async () => {
    const sut = create();
    await fill(sut, 2);
    const outcome = sut.acquire('acct-1').catch((caught: unknown) => caught);

    await jest.advanceTimersByTimeAsync(5000);

    expect(await outcome).toMatchObject({ kind: 'bulkhead_full' });
    expect(sut.snapshot()[0].queued).toBe(0);
  });

  it('shortens the queue wait to the deadline', async () => {
    const sut = create();
    await fill(sut, 2);
    const rejected = jest.fn();

    void sut.acquire('acct-1', START + 1000).catch(rejected);
    await jest.advanceTimersByTimeAsync(1000);

    expect(rejected).toHaveBeenCalledTimes(1);
  });

  it('rejects at once when the deadline has passed', async () => {
    const sut = create();
    await fill(sut, 2);

    const error = await sut.acquire('acct-1', START).catch((caught: unknown) => caught);

    expect(error).toMatchObject({ kind: 'bulkhead_full' });
    expect((error as UpstreamError).message).toContain('deadline has passed');
  });

  it('estimates retry-after from the oldest running slot', async () => {
    const sut = create({ queueSize: 0, expectedHoldMs: 60_000 });
    await sut.acquire('acct-1');
    jest.advanceTimersByTime(20_000);
    await sut.acquire('acct-1');

    await expect(sut.acquire('acct-1')).rejects.toMatchObject({ retryAfterMs: 40_000 });
  });

  it('ignores a second release', async () => {
    const sut = create();
    const [first] = await fill(sut, 2);

    first();
    first();

    expect(sut.inFlight('acct-1')).toBe(1);
  });

  it('hands one freed slot to one waiter', async () => {
    const sut = create({ queueSize: 2 });
    const [first] = await fill(sut, 2);
    const granted = jest.fn();
    void sut.acquire('acct-1').then(granted);
    void sut.acquire('acct-1').then(granted);

    first();
    first();
    await jest.advanceTimersByTimeAsync(0);

    expect(granted).toHaveBeenCalledTimes(1);
    expect(sut.inFlight('acct-1')).toBe(2);
  });

  it('logs once per full spell', async () => {
    const sut = create({ queueSize: 0 });
    const [first] = await fill(sut, 2);
    await sut.acquire('acct-1').catch(() => undefined);
    await sut.acquire('acct-1').catch(() => undefined);
    expect(warn).toHaveBeenCalledTimes(1);

    first();
    await sut.acquire('acct-1');
    await sut.acquire('acct-1').catch(() => undefined);

    expect(warn).toHaveBeenCalledTimes(2);
    expect(await seriesValue(metrics.bulkheadRejections, { account: 'acct-1' })).toBe(3);
  });
});
