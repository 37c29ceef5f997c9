/**
 * Finds the first place in `value` that JSON would not carry faithfully. Returns its path
 * (`$` is the root) and the offending value, or `undefined` when the whole value is plain JSON.
 * `undefined` object properties are allowed (JSON drops them, which reads back the same).
 */
export function findNonJson(value: unknown): { path: string; value: unknown; reason?: string } | undefined {
  const ancestors = new Set<object>();
  const walk = (v: unknown, path: string): { path: string; value: unknown; reason?: string } | undefined => {
    if (v === null || typeof v === "string" || typeof v === "boolean") return undefined;
    if (typeof v === "number") return Number.isFinite(v) ? undefined : { path, value: v };
    if (typeof v !== "object") return { path, value: v };
    if (ancestors.has(v)) return { path, value: v, reason: "a reference cycle" };
    if (Array.isArray(v)) {
      ancestors.add(v);
      for (let i = 0; i < v.length; i++) {
        const found = walk(v[i], `${path}[${i}]`);
        if (found) return found;
      }
      ancestors.delete(v);
      return undefined;
    }
    const proto = Object.getPrototypeOf(v);
    if (proto !== Object.prototype && proto !== null) return { path, value: v };
    ancestors.add(v);
    for (const k of Object.keys(v)) {
      const child = (v as Record<string, unknown>)[k];
      if (child === undefined) continue;
      const found = walk(child, /^[A-Za-z_$][\w$]*$/.test(k) ? `${path}.${k}` : `${path}[${JSON.stringify(k)}]`);
      if (found) return found;
    }
    ancestors.delete(v);
    return undefined;
  };
  return walk(value, "$");
}
