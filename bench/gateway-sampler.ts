import { rssBytes } from './processes';
import { median } from './stats';

const RSS_INTERVAL_MS = 250;
const SCRAPE_INTERVAL_MS = 1_000;
/**
 * The gateway samples the event loop with a 20 ms timer (`eventLoopMonitoringPrecision: 20`
 * in src/observability/metrics.service.ts), and Node's delay histogram records whole timer
 * intervals, so an idle gateway reports about 0.020 s. The excess over it is the lag.
 */
export const LOOP_SAMPLING_INTERVAL_S = 0.02;

/** Memory and event-loop figures of the gateway over one sampling period. */
export interface GatewaySamples {
  rss: { startBytes: number; peakBytes: number; endBytes: number; samples: number };
  /**
   * From the gateway's `/metrics`, as exported (sampling interval included). prom-client resets
   * its event-loop histogram at each scrape, so each sample covers about one scrape interval.
   * The first sample is dropped because it covers the time before sampling started.
   */
  eventLoop: { p99MaxS: number; p99MedianS: number; maxS: number; samples: number };
  /** V8 heap in use (`nodejs_heap_size_used_bytes`), garbage not yet collected included. */
  heapUsed: { peakBytes: number; endBytes: number };
}

/**
 * Reads the gateway's VmRSS every 250 ms and scrapes its `/metrics` every second until
 * `stop()`. Scrapes never overlap, and a failed scrape is counted, not thrown.
 */
export class GatewaySampler {
  private readonly rss: number[] = [];
  private readonly p99: number[] = [];
  private readonly max: number[] = [];
  private readonly heapUsed: number[] = [];
  private rssTimer?: NodeJS.Timeout;
  private scrapeTimer?: NodeJS.Timeout;
  private scraping?: Promise<void>;
  private scrapes = 0;
  failedScrapes = 0;

  constructor(
    private readonly pid: number,
    private readonly metricsUrl: string,
  ) {}

  start(): void {
    this.sampleRss();
    this.rssTimer = setInterval(() => this.sampleRss(), RSS_INTERVAL_MS);
    this.scrapeTimer = setInterval(() => {
      this.scraping ??= this.scrape().finally(() => (this.scraping = undefined));
    }, SCRAPE_INTERVAL_MS);
    this.scraping = this.scrape().finally(() => (this.scraping = undefined));
  }

  async stop(): Promise<GatewaySamples> {
    clearInterval(this.rssTimer);
    clearInterval(this.scrapeTimer);
    await this.scraping;
    await this.scrape();
    this.sampleRss();

    return {
      rss: {
        startBytes: this.rss[0],
        peakBytes: Math.max(...this.rss),
        endBytes: this.rss[this.rss.length - 1],
        samples: this.rss.length,
      },
      eventLoop: {
        p99MaxS: this.p99.length === 0 ? Number.NaN : Math.max(...this.p99),
        p99MedianS: median(this.p99),
        maxS: this.max.length === 0 ? Number.NaN : Math.max(...this.max),
        samples: this.p99.length,
      },
      heapUsed: {
        peakBytes: this.heapUsed.length === 0 ? Number.NaN : Math.max(...this.heapUsed),
        endBytes: this.heapUsed.length === 0 ? Number.NaN : this.heapUsed[this.heapUsed.length - 1],
      },
    };
  }

  /** Records one RSS sample. A gateway that exited leaves a gap, and its exit fails the scenario elsewhere. */
  private sampleRss(): void {
    try {
      this.rss.push(rssBytes(this.pid));
    } catch {
      // The process is gone.
    }
  }

  private async scrape(): Promise<void> {
    this.scrapes += 1;
    const first = this.scrapes === 1;
    try {
      const response = await fetch(this.metricsUrl, { signal: AbortSignal.timeout(5_000) });
      const text = await response.text();
      if (!response.ok) throw new Error(`GET /metrics failed with status ${response.status}`);
      this.heapUsed.push(gaugeValue(text, 'nodejs_heap_size_used_bytes'));
      if (first) return;
      this.p99.push(gaugeValue(text, 'nodejs_eventloop_lag_p99_seconds'));
      this.max.push(gaugeValue(text, 'nodejs_eventloop_lag_max_seconds'));
    } catch {
      this.failedScrapes += 1;
    }
  }
}

function gaugeValue(exposition: string, name: string): number {
  const match = new RegExp(`^${name}(?:\\{[^}]*\\})?\\s+(\\S+)`, 'm').exec(exposition);
  if (match === null) throw new Error(`metric ${name} not found`);

  return Number(match[1]);
}
