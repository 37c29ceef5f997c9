/**
 * A clock read once per burst: the first call reads `clock`, and every call after it gives that reading
 * until the microtasks queued by then have run. Reads started together (a page's, a pipeline's) then
 * share one clock read, which matters where a read of the clock is slow (a virtual machine without a
 * fast clock source: on the ones measured here it cost as much as the rest of a hit's own work). A
 * reading is at most one burst old: microseconds, or the length of a long synchronous stretch.
 */
export function burstClock(clock: () => number): () => number {
  let reading: number | undefined;
  const endBurst = (): void => {
    reading = undefined;
  };
  return () => {
    if (reading === undefined) {
      reading = clock();
      queueMicrotask(endBurst);
    }
    return reading;
  };
}
