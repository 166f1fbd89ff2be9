import { WaitRelease } from './wait-release';

describe('WaitRelease', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('sleeps for the given time', async () => {
    const sut = new WaitRelease();
    let woke = false;
    void sut.sleep(1_000).then(() => (woke = true));

    await jest.advanceTimersByTimeAsync(999);
    expect(woke).toBe(false);
    await jest.advanceTimersByTimeAsync(1);
    expect(woke).toBe(true);
  });

  it('wakes pending sleeps on release', async () => {
    const sut = new WaitRelease();
    const sleeps = [sut.sleep(60_000), sut.sleep(60_000)];

    expect(sut.release()).toBe(2);
    await Promise.all(sleeps);
    expect(jest.getTimerCount()).toBe(0);
  });

  it('returns at once after a release', async () => {
    const sut = new WaitRelease();
    sut.release();

    await sut.sleep(60_000);
    expect(sut.isReleased).toBe(true);
  });
});
