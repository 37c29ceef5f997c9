import { CachebackConfigError } from "../errors.js";
import { isJob, type AnyJob, type JobOptions } from "../job.js";
import { checkJobName } from "../keys.js";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyFetcher = (...args: any[]) => unknown;

/** The jobs a refresh route can run: a list of `defineJob` jobs, or fetchers (or jobs) by job name. */
export type JobList = readonly AnyJob[] | Readonly<Record<string, AnyJob | AnyFetcher>>;

/** A job the route found by name. */
export interface Registered {
  fn: AnyFetcher;
  options: JobOptions | undefined;
}

/** Indexes the route's jobs by name; throws a {@link CachebackConfigError} saying what is wrong. */
export function registry(jobs: JobList): Map<string, Registered> {
  const map = new Map<string, Registered>();
  const add = (name: string, entry: Registered) => {
    checkJobName(name);
    if (map.has(name)) throw new CachebackConfigError(`createRefreshHandler: two jobs are named "${name}"`);
    map.set(name, entry);
  };
  if (Array.isArray(jobs)) {
    for (const job of jobs as readonly unknown[]) {
      if (!isJob(job)) {
        throw new CachebackConfigError(
          "createRefreshHandler({ jobs: [...] }) takes jobs made with defineJob(name, fn); to register plain functions use an object: { jobs: { quote: slowQuote } }",
        );
      }
      add(job.jobName, { fn: job.fetcher, options: job.options });
    }
  } else if (jobs && typeof jobs === "object") {
    for (const [name, value] of Object.entries(jobs)) {
      if (isJob(value)) {
        if (value.jobName !== name) {
          throw new CachebackConfigError(`createRefreshHandler: jobs.${name} is the job "${value.jobName}"; register it under its own name`);
        }
        add(name, { fn: value.fetcher, options: value.options });
      } else if (typeof value === "function") {
        add(name, { fn: value, options: undefined });
      } else {
        throw new CachebackConfigError(`createRefreshHandler: jobs.${name} must be a function or a job made with defineJob`);
      }
    }
  } else {
    throw new CachebackConfigError("createRefreshHandler needs { jobs }: a list of defineJob jobs, or an object of fetchers by job name");
  }
  return map;
}

/** The 489 text for a job this route does not know. */
export function unknownJobText(job: string, known: Iterable<string>): string {
  const names = [...known];
  return (
    `No job named "${job}" is registered with this refresh route. Register it in app/api/cacheback/route.ts: ` +
    `export const POST = createRefreshHandler({ jobs: [defineJob("${job}", yourFetcher)] }), ` +
    `or createRefreshHandler({ jobs: { "${job}": yourFetcher } }). Registered: ${names.length > 0 ? names.map((k) => `"${k}"`).join(", ") : "none"}.`
  );
}
