import type * as Api from "@opentelemetry/api";

/** Bucket bounds in seconds: the messaging conventions' for publishing; wider ones for jobs, which can take a minute. */
const PUBLISH_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];
const JOB_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/** One series of a tally: its attributes and its count so far. */
interface Series {
  attributes: Api.Attributes;
  value: number;
}

/**
 * Counts by three keys, kept here and handed to the SDK when it collects (an observable counter): a
 * read adds 1 in three map lookups, where a synchronous counter's `add` would hash its attributes on
 * every call (about 1.5 µs a read with the SDK's MeterProvider, against tens of ns here).
 */
export class Tally {
  readonly #byKey = new Map<string, Map<string, Map<string, Series>>>();
  readonly #series: Series[] = [];

  /** Adds 1 to the series of `a`, `b`, `c`; `attributes` makes its attributes, the first time. */
  add(a: string, b: string, c: string, attributes: () => Api.Attributes): void {
    let byB = this.#byKey.get(a);
    if (!byB) this.#byKey.set(a, (byB = new Map()));
    let byC = byB.get(b);
    if (!byC) byB.set(b, (byC = new Map()));
    let series = byC.get(c);
    if (!series) {
      byC.set(c, (series = { attributes: attributes(), value: 0 }));
      this.#series.push(series);
    }
    series.value++;
  }

  /** Reports every series (its cumulative count), when the SDK collects. */
  observe(result: Api.ObservableResult): void {
    for (const { attributes, value } of this.#series) result.observe(value, attributes);
  }
}

/** The instruments of an instance (a meter provider is registered). */
export class Instruments {
  /** `cacheback.reads`, by job, status and reason (or `error.type` for a read that threw). */
  readonly reads = new Tally();
  /** `cacheback.refreshes`, by job, origin and outcome (and `error.type` for a failure). */
  readonly refreshes = new Tally();
  readonly jobDuration: Api.Histogram;
  readonly sent: Api.Counter;
  readonly publishDuration: Api.Histogram;

  constructor(meter: Api.Meter) {
    meter
      .createObservableCounter("cacheback.reads", { unit: "{read}", description: "Reads through the cache, by status: hit, stale or miss" })
      .addCallback((result) => this.reads.observe(result));
    meter
      .createObservableCounter("cacheback.refreshes", {
        unit: "{refresh}",
        description: "Refreshes run (by the refresh route, in process when the queue failed, or during a read), by outcome; failed ones carry error.type",
      })
      .addCallback((result) => this.refreshes.observe(result));
    this.jobDuration = meter.createHistogram("cacheback.job.duration", {
      unit: "s",
      description: "How long a job (the fetcher) ran, in a refresh or in a read's synchronous fetch",
      advice: { explicitBucketBoundaries: JOB_BUCKETS },
    });
    this.sent = meter.createCounter("messaging.client.sent.messages", { unit: "{message}", description: "Refresh messages published to the queue" });
    this.publishDuration = meter.createHistogram("messaging.client.operation.duration", {
      unit: "s",
      description: "How long publishing a refresh message took",
      advice: { explicitBucketBoundaries: PUBLISH_BUCKETS },
    });
  }
}
