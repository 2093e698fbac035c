import { RocketErrors } from './errors';
import { tagHashCode } from './tag-hash';

/** `*` (or an empty expression) subscribes to every tag. */
export const SUB_ALL = '*';

/**
 * A parsed tag subscription (RocketMQ `SubscriptionData`): the tags and their hash codes.
 * The broker filters ConsumeQueue entries by `codeSet`; the client re-checks `tagsSet`
 * because different tags can share a hash code.
 */
export interface SubscriptionData {
  topic: string;
  subString: string;
  /** True for `*`. */
  all: boolean;
  tagsSet: string[];
  codeSet: number[];
}

const TAG_TOKEN = /^[^\s|*]+$/;

/**
 * Grammar: `*` | tag ( `||` tag )*, blanks around tags allowed. A tag is any run of characters
 * without blanks, `|` or `*`. Anything else (an empty alternative, `A | B`, `*||A`) is rejected
 * with SUBSCRIPTION_PARSE_FAILED.
 */
export function parseSubscription(topic: string, expression: unknown): SubscriptionData {
  if (expression === undefined || expression === null) expression = SUB_ALL;
  if (typeof expression !== 'string') throw RocketErrors.subscriptionParseFailed(expression, 'the expression must be a string');
  const trimmed = expression.trim();
  if (trimmed === '' || trimmed === SUB_ALL) return { topic, subString: SUB_ALL, all: true, tagsSet: [], codeSet: [] };
  const tags: string[] = [];
  for (const part of trimmed.split('||')) {
    const tag = part.trim();
    if (tag === '') throw RocketErrors.subscriptionParseFailed(expression, 'an alternative between `||` is empty');
    if (!TAG_TOKEN.test(tag)) throw RocketErrors.subscriptionParseFailed(expression, `tag ${JSON.stringify(tag)} contains a blank, '|' or '*'`);
    if (!tags.includes(tag)) tags.push(tag);
  }
  return { topic, subString: tags.join(' || '), all: false, tagsSet: tags, codeSet: tags.map(tagHashCode) };
}

/** Client-side re-check of a message's tag against a subscription. */
export function tagMatches(sub: SubscriptionData, tag: string | undefined): boolean {
  if (sub.all) return true;
  return tag !== undefined && sub.tagsSet.includes(tag);
}

/** Broker-side check on the ConsumeQueue's tag hash code. */
export function codeMatches(sub: { all: boolean; codeSet: readonly number[] }, code: number): boolean {
  if (sub.all) return true;
  return sub.codeSet.includes(code);
}
