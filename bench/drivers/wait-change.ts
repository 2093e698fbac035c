/**
 * Wait, without blocking the thread's event loop, until `arr[index]` is no longer `value` or
 * `timeoutMs` passed (Atomics.waitAsync; typed here because the project's lib is ES2022).
 */
type WaitAsyncResult = { async: false; value: 'not-equal' | 'timed-out' } | { async: true; value: Promise<'ok' | 'timed-out'> };
type WaitAsync = (arr: Int32Array, index: number, value: number, timeoutMs?: number) => WaitAsyncResult;

const waitAsync = (Atomics as unknown as { waitAsync?: WaitAsync }).waitAsync;

export async function waitChange(arr: Int32Array, index: number, value: number, timeoutMs: number): Promise<void> {
  if (!waitAsync) {
    if (Atomics.load(arr, index) === value) await new Promise((r) => setTimeout(r, 1));
    return;
  }
  const w = waitAsync(arr, index, value, timeoutMs);
  if (w.async) await w.value;
}
