/** Records the process's unhandled promise rejections while installed. */
export interface UnhandledWatch {
  /** The reasons seen so far. */
  readonly seen: unknown[];
  /** Removes the listener. */
  dispose(): void;
}

/** Installs a process-level `unhandledRejection` listener; assert `seen` is empty at the end of a test. */
export function watchUnhandledRejections(): UnhandledWatch {
  const seen: unknown[] = [];
  const listener = (reason: unknown): void => {
    seen.push(reason);
  };
  process.on("unhandledRejection", listener);
  return { seen, dispose: () => void process.off("unhandledRejection", listener) };
}
