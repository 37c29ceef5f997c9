"use client";

import { useRouter } from "next/navigation";
import { useEffect } from "react";

/**
 * While a background refresh is on its way, re-renders the page every `everyMs` (a soft refresh: the
 * server components run again, the browser keeps its state) so the new value shows up by itself.
 * `renderedAt` changes with every server render, which re-arms the timer.
 */
export function AutoRefresh({ active, renderedAt, everyMs = 1000 }: { active: boolean; renderedAt: string; everyMs?: number }) {
  const router = useRouter();
  useEffect(() => {
    if (!active) return;
    const timer = setTimeout(() => router.refresh(), everyMs);
    return () => clearTimeout(timer);
  }, [active, renderedAt, everyMs, router]);
  if (!active) return null;
  return (
    <p className="hint" data-testid="auto-refresh">
      A refresh is on its way: this view reloads itself until the new value lands.
    </p>
  );
}
