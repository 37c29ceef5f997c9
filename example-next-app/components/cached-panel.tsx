import type { ReactNode } from "react";
import { CacheFacts } from "./cache-facts";
import { StatusBadge, type ReadStatus } from "./status-badge";

/** One value read through the cache: the value, its status badge, when it was fetched and its age. */
export function CachedPanel({
  title,
  read,
  fetchedAt,
  readMs,
  children,
  actions,
  testId,
}: {
  title: string;
  read: ReadStatus & { age: number | null };
  fetchedAt: string | null;
  readMs: number;
  children: ReactNode;
  actions?: ReactNode;
  testId?: string;
}) {
  return (
    <section className="panel" data-testid={testId}>
      <h2>{title}</h2>
      <div className="value" data-testid="value">
        {children}
      </div>
      <StatusBadge status={read.status} syncFetch={read.syncFetch} refreshScheduled={read.refreshScheduled} />
      <CacheFacts fetchedAt={fetchedAt} age={read.age} readMs={readMs} />
      {actions}
    </section>
  );
}
