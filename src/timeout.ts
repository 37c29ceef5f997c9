import { CachebackTimeoutError } from "./errors.js";

/**
 * Resolves or rejects as `promise` does, or rejects with a {@link CachebackTimeoutError} after `ms`.
 * The timer never keeps a process alive. `operation` names the work in the error (a function is called
 * only on timeout, so the hot path builds no string). The underlying work is not cancelled; its late outcome is ignored.
 */
export function withTimeout<T>(promise: Promise<T>, ms: number, operation: string | (() => string)): Promise<T> {
  if (!Number.isFinite(ms)) return promise;
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new CachebackTimeoutError(typeof operation === "string" ? operation : operation(), ms)), ms);
    (timer as { unref?: () => void }).unref?.();
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}
