/**
 * A two-level map (a, b) -> value. The checker's lookups are keyed by pairs (target + message
 * id, consumer + stream...); nesting Maps keeps the original strings as keys, whose hashes V8
 * caches, instead of building a concatenated key string on every lookup (which dominated the
 * checker's time on million-operation histories).
 */
export class Map2<V> {
  private readonly outer = new Map<string, Map<string, V>>();
  private count = 0;

  get size(): number {
    return this.count;
  }

  get(a: string, b: string): V | undefined {
    return this.outer.get(a)?.get(b);
  }

  has(a: string, b: string): boolean {
    return this.outer.get(a)?.has(b) === true;
  }

  set(a: string, b: string, v: V): void {
    let inner = this.outer.get(a);
    if (!inner) this.outer.set(a, (inner = new Map()));
    if (!inner.has(b)) this.count++;
    inner.set(b, v);
  }

  /** Everything under `a`. */
  row(a: string): ReadonlyMap<string, V> | undefined {
    return this.outer.get(a);
  }

  *values(): IterableIterator<V> {
    for (const inner of this.outer.values()) yield* inner.values();
  }

  /** Appends to the array at (a, b) of a Map2 of arrays. */
  static push<T>(m: Map2<T[]>, a: string, b: string, v: T): void {
    const arr = m.get(a, b);
    if (arr) arr.push(v);
    else m.set(a, b, [v]);
  }
}
