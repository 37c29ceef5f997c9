import { cleanup, render, screen } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";
import { CacheFacts, formatAge } from "@/components/cache-facts";
import { StatusBadge } from "@/components/status-badge";

afterEach(cleanup);

const badge = () => screen.getByTestId("cache-status");

describe("the example's status badge", () => {
  it("fresh: a hit reads 'fresh' in green", () => {
    render(<StatusBadge status="hit" syncFetch={false} refreshScheduled={false} />);
    expect(badge().textContent).toBe("fresh");
    expect(badge().getAttribute("data-status")).toBe("hit");
    expect(badge().className).toContain("badge-fresh");
    expect(screen.getByText(/younger than its lifetime/)).toBeTruthy();
  });

  it("stale: served at once with a refresh queued", () => {
    render(<StatusBadge status="stale" syncFetch={false} refreshScheduled={true} />);
    expect(badge().textContent).toBe("stale, refresh queued");
    expect(badge().className).toContain("badge-stale");
    expect(screen.getByText(/background refresh brings the new one/)).toBeTruthy();
  });

  it("stale past fetchOnStaleThreshold: fetched during the request", () => {
    render(<StatusBadge status="stale" syncFetch={true} refreshScheduled={false} />);
    expect(badge().textContent).toBe("stale, fetched now");
  });

  it("miss: fetched from the slow source during this request", () => {
    render(<StatusBadge status="miss" syncFetch={true} refreshScheduled={false} />);
    expect(badge().textContent).toBe("miss");
    expect(badge().className).toContain("badge-miss");
    expect(screen.getByText(/fetched from the slow source during this request/)).toBeTruthy();
  });

  it("miss with fetchOnMiss: false: empty now, filled in the background", () => {
    render(<StatusBadge status="miss" syncFetch={false} refreshScheduled={true} />);
    expect(badge().textContent).toBe("miss, refresh queued");
  });
});

describe("the example's cache facts", () => {
  it("shows when the value was fetched, its age and how long the read took", () => {
    render(<CacheFacts fetchedAt="2026-01-02T03:04:05.000Z" age={75.4} readMs={3} />);
    expect(screen.getByTestId("fetched-at").textContent).toBe("2026-01-02T03:04:05.000Z");
    expect(screen.getByTestId("age").textContent).toBe("1 min 15 s");
    expect(screen.getByTestId("read-ms").textContent).toBe("3 ms");
  });

  it("formats ages for people", () => {
    expect(formatAge(null)).toBe("nothing cached yet");
    expect(formatAge(0.4)).toBe("just now");
    expect(formatAge(9.9)).toBe("9 s");
    expect(formatAge(120)).toBe("2 min 0 s");
  });
});
