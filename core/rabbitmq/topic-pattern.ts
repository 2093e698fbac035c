/**
 * Topic-exchange binding keys: dot-separated words where `*` matches exactly one word and `#`
 * matches zero or more words ("a.#" matches "a", "a.b" and "a.b.c"; "*.b" matches "x.b" only).
 * An empty routing key is one empty word, as in RabbitMQ.
 */
export class TopicPattern {
  readonly key: string;
  private readonly words: string[];
  /** Literal keys (no wildcard) compare as strings. */
  private readonly literal: boolean;

  constructor(bindingKey: string) {
    this.key = bindingKey;
    this.words = bindingKey.split('.');
    this.literal = !this.words.some((w) => w === '*' || w === '#');
  }

  matches(routingKey: string): boolean {
    if (this.literal) return routingKey === this.key;
    return matchWords(this.words, 0, routingKey.split('.'), 0);
  }
}

function matchWords(pattern: string[], p: number, words: string[], w: number): boolean {
  // Iterative over plain words and '*'; recursion only at '#' (collapsing runs of '#').
  while (p < pattern.length) {
    const pw = pattern[p]!;
    if (pw === '#') {
      while (p + 1 < pattern.length && pattern[p + 1] === '#') p++;
      if (p === pattern.length - 1) return true;
      for (let skip = w; skip <= words.length; skip++) {
        if (matchWords(pattern, p + 1, words, skip)) return true;
      }
      return false;
    }
    if (w >= words.length) return false;
    if (pw !== '*' && pw !== words[w]) return false;
    p++;
    w++;
  }
  return w === words.length;
}
