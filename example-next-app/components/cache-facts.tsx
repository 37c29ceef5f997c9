/** Formats an age in seconds for people: "just now", "4 s", "2 min 5 s". */
export function formatAge(age: number | null): string {
  if (age === null) return "nothing cached yet";
  const seconds = Math.floor(age);
  if (seconds < 1) return "just now";
  if (seconds < 60) return `${seconds} s`;
  return `${Math.floor(seconds / 60)} min ${seconds % 60} s`;
}

/** When the value was fetched, its age, and how long this read took. */
export function CacheFacts({ fetchedAt, age, readMs }: { fetchedAt: string | null; age: number | null; readMs: number }) {
  return (
    <dl className="facts">
      <dt>Fetched at</dt>
      <dd data-testid="fetched-at">{fetchedAt ?? "not yet"}</dd>
      <dt>Age</dt>
      <dd data-testid="age">{formatAge(age)}</dd>
      <dt>This read took</dt>
      <dd data-testid="read-ms">{readMs} ms</dd>
    </dl>
  );
}
