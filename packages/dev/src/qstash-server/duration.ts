/** QStash duration strings (`Upstash-Delay`, `Upstash-Timeout`): `10s`, `5m`, `2h`, `1d`, or sums like `1h30m`. */

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };

/**
 * Parses a QStash duration into seconds; a bare number counts as seconds. `undefined` when it is malformed
 * (negative, empty, or an unknown unit).
 */
export function parseDurationSeconds(value: string): number | undefined {
  const text = value.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text);
  if (!/^(\d+(\.\d+)?[smhd])+$/.test(text)) return undefined;
  let total = 0;
  for (const match of text.matchAll(/(\d+(?:\.\d+)?)([smhd])/g)) {
    total += Number(match[1]) * (UNIT_SECONDS[match[2] as string] as number);
  }
  return total;
}
