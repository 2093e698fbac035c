/**
 * The state of one partition that every thread appending to it shares, in a SharedArrayBuffer:
 * a write lock, the next offset, and an append counter that readers wait on.
 *
 *   Int32[0]  lock (0 free, 1 held)        Int32[1]  appends so far (Atomics.notify on change)
 *   Float64[1] next offset (log end offset)
 *
 * The lock makes "take the next offset, write it into the batch, append" one step, so offsets
 * follow log order whichever thread appends. It is held for one native append (microseconds).
 */
export class PartitionShare {
  static readonly BYTES = 16;
  readonly sab: SharedArrayBuffer;
  private readonly i32: Int32Array;
  private readonly f64: Float64Array;

  constructor(sab: SharedArrayBuffer = new SharedArrayBuffer(PartitionShare.BYTES)) {
    this.sab = sab;
    this.i32 = new Int32Array(sab, 0, 2);
    this.f64 = new Float64Array(sab, 8, 1);
  }

  lock(): void {
    if (Atomics.compareExchange(this.i32, 0, 0, 1) === 0) return;
    for (let spins = 0; ; spins++) {
      if (Atomics.compareExchange(this.i32, 0, 0, 1) === 0) return;
      if (spins > 64) Atomics.wait(this.i32, 0, 1, 1);
    }
  }

  unlock(): void {
    Atomics.store(this.i32, 0, 0);
    Atomics.notify(this.i32, 0, 1);
  }

  get nextOffset(): number {
    return this.f64[0]!;
  }

  set nextOffset(v: number) {
    this.f64[0] = v;
  }

  /** Counts an append and wakes threads waiting for one. */
  appended(): void {
    Atomics.add(this.i32, 1, 1);
    Atomics.notify(this.i32, 1);
  }

  get appends(): number {
    return Atomics.load(this.i32, 1);
  }
}
