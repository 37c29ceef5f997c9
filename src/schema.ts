/**
 * The part of the Standard Schema interface (https://standardschema.dev) next-cacheback uses to check a
 * job's arguments. Zod, Valibot, ArkType and others implement it, so any of their schemas can be passed.
 */
export interface StandardSchema<Output = unknown> {
  readonly "~standard": {
    readonly version: 1;
    readonly vendor: string;
    readonly validate: (
      value: unknown,
    ) => StandardResult<Output> | Promise<StandardResult<Output>>;
    readonly types?: { readonly input: unknown; readonly output: Output } | undefined;
  };
}

type StandardResult<Output> =
  | { readonly value: Output; readonly issues?: undefined }
  | { readonly issues: readonly { readonly message: string; readonly path?: readonly unknown[] }[] };

/** Checks a job's arguments: a Standard Schema for the argument tuple, or a predicate. */
export type ArgsValidator<A extends readonly unknown[]> = StandardSchema<A> | ((args: readonly unknown[]) => boolean);

/** Runs a validator; returns a message when the arguments are refused, `undefined` when accepted. */
export async function argsProblem(validator: ArgsValidator<readonly unknown[]> | undefined, args: unknown[]): Promise<string | undefined> {
  if (!validator) return undefined;
  if (typeof validator === "function") return validator(args) ? undefined : "the job's args check refused them";
  const result = await validator["~standard"].validate(args);
  if (!result.issues) return undefined;
  return result.issues
    .map((i) => (i.path && i.path.length > 0 ? `args${i.path.map((p) => `[${JSON.stringify(typeof p === "object" && p !== null && "key" in p ? (p as { key: unknown }).key : p)}]`).join("")}: ${i.message}` : i.message))
    .join("; ");
}
