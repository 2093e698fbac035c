/**
 * The anomalies the checker names (DESIGN.md, "Semantics catalog"), and the shape of a case:
 * one instance of an anomaly with the evidence that proves it. Cases are data; render.ts turns
 * them into text last.
 */

export type AnomalyName =
  | 'lost'
  | 'duplicate'
  | 'duplicate-write'
  | 'reorder'
  | 'poll-skip'
  | 'non-monotonic-offset'
  | 'missing-redelivery'
  | 'redelivery-past-limit'
  | 'broadcast-member-missed'
  | 'cluster-double-delivery'
  | 'rebalance-duplicate'
  | 'tag-filter-leak'
  | 'unroutable-delivered'
  | 'misrouted';

export const ANOMALY_NAMES: readonly AnomalyName[] = [
  'lost',
  'duplicate',
  'duplicate-write',
  'reorder',
  'poll-skip',
  'non-monotonic-offset',
  'missing-redelivery',
  'redelivery-past-limit',
  'broadcast-member-missed',
  'cluster-double-delivery',
  'rebalance-duplicate',
  'tag-filter-leak',
  'unroutable-delivered',
  'misrouted',
];

/** One line per anomaly: what it means, for reports and docs. */
export const ANOMALY_DESCRIPTIONS: Readonly<Record<AnomalyName, string>> = {
  lost: 'a message whose send succeeded never reached a target that was drained after the send',
  duplicate: 'a message delivered again to the same target with no failure, nack or seek to explain it, or after it was acked / committed',
  'duplicate-write': 'one message id stored twice in a stream (a producer retry written twice)',
  reorder: 'within one stream, a consumer got a message before another whose send completed before the first was sent',
  'poll-skip': 'a consumer skipped over stored messages of a stream (a gap between polls, or a resume / seek past the position)',
  'non-monotonic-offset': 'a consumer saw offsets of a stream go backwards without a seek or rebalance, or two messages share one offset',
  'missing-redelivery': 'a message nacked with requeue, or held unsettled by a consumer that crashed or closed, never came back although the target was drained',
  'redelivery-past-limit': 'a message delivered more times than the target allows (delivery limit, max reconsume times)',
  'broadcast-member-missed': 'a member of a broadcast group never received a message sent while it was subscribed',
  'cluster-double-delivery': 'two members of one cluster group both received a message with no failure, nack or rebalance between',
  'rebalance-duplicate': 'a message settled by one member of a cluster group was delivered again within the group after a member joined or left between the two deliveries (a new owner resumes from the last persisted offset: at-least-once)',
  'tag-filter-leak': "a consumer received a message whose tag does not match its subscription's tag filter",
  'unroutable-delivered': 'a message that no binding routes (or that the broker returned) was delivered',
  misrouted: 'a message was delivered to a target it was not routed to',
};

export interface AnomalyCase {
  anomaly: AnomalyName;
  /** A finer reason within the anomaly (e.g. duplicate: no-failure-between | after-ack | after-commit). */
  kind?: string;
  /** The message id(s) involved, the first is the subject. */
  ids: string[];
  target?: string;
  stream?: string;
  consumers?: string[];
  offsets?: number[];
  /** History indexes of the operations that prove the case (send, deliveries, settle, crash...). */
  ops: number[];
  /** Times (ns since run start) of `ops`, same order. */
  times: number[];
  /** One short sentence, for the report. */
  note: string;
}
