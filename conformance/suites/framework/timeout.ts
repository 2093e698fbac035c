/**
 * Per-operation timeouts. A call that does not settle in time rejects with ERR_TIMEOUT naming
 * the operation; the late promise is left to settle on its own (its result is ignored), so a
 * hung adapter can never hang the harness.
 */
import { MqlabError } from '../../../core/errors';

export function withTimeout<T>(work: () => Promise<T> | T, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let done = false;
    const timer = setTimeout(() => {
      if (done) return;
      done = true;
      reject(new MqlabError('ERR_TIMEOUT', `${what} did not complete within ${ms} ms`, { operation: what, timeoutMs: ms }));
    }, ms);
    let p: Promise<T>;
    try {
      p = Promise.resolve(work());
    } catch (e) {
      p = Promise.reject(e);
    }
    p.then(
      (v) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        resolve(v);
      },
      (e) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        reject(e);
      },
    );
  });
}

/** An error as the history stores it. */
export function errorOf(e: unknown): { code: string; message: string } {
  if (e instanceof Error) return { code: String((e as { code?: unknown }).code ?? 'ERR_ADAPTER_THREW'), message: e.message };
  return { code: 'ERR_ADAPTER_THREW', message: String(e) };
}
