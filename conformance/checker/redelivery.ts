/**
 * Duplicate and cluster-double-delivery: every delivery of a message to a target after the
 * first is classified. It is a legitimate redelivery when, between the two deliveries, the
 * earlier one was nacked with requeue, or something disrupted the target (a member joined,
 * crashed, closed or sought; the broker restarted). Otherwise it is:
 *  - `cluster-double-delivery` (kind `after-ack` / ...) when the earlier delivery had been
 *    settled, the two deliveries went to different members of a cluster group and nothing at
 *    all happened to the group between them,
 *  - `duplicate` (kind `after-ack` / `after-commit` / `after-reject`) when the earlier delivery
 *    had been settled for good and nothing justified bringing it back,
 *  - `cluster-double-delivery` when two different members of a cluster group got it,
 *  - `duplicate` (kind `no-failure-between`) when the same consumer got it twice.
 * A message settled (acked, not committed) by a member of a cluster group and delivered again
 * within the group after a member joined or left between the two deliveries is
 * `rebalance-duplicate`: the new owner of a queue resumes from the last persisted offset, which
 * may lag the acks (RocketMQ persists consume offsets periodically). A check may allow it for an
 * at-least-once adapter (verdict.ts); a committed offset is durable, so Kafka commits never get it.
 * `duplicate-write` is the producer-side twin: one id stored at two offsets of a stream.
 */
import type { AnomalyCase } from './anomalies';
import { Map2 } from './map2';
import { disruptedBetween, firstBetween, lastCommitBefore, settleAfter, timesOf, type DeliveryInfo, type Indexes } from './indexes';

function seekBetween(idx: Indexes, d: DeliveryInfo, a: number, b: number): number {
  // Any member of the group seeking counts.
  return firstBetween(idx.targetSeeks.get(d.target), a, b);
}

const SETTLED_WORD: Record<string, string> = { 'after-ack': 'acked', 'after-commit': 'committed', 'after-reject': 'rejected without requeue' };

export function redeliveryCases(idx: Indexes): AnomalyCase[] {
  const out: AnomalyCase[] = [];
  idx.byTargetId.eachMoreThan(1, (seqs) => {
    for (let k = 1; k < seqs.length; k++) {
      const d1 = idx.deliveries[seqs[k - 1]!]!;
      const d2 = idx.deliveries[seqs[k]!]!;
      if (d1.index === d2.index && d1.consumer === d2.consumer) {
        out.push(makeCase(idx, 'duplicate', 'no-failure-between', d1, d2, [d1.index], 'delivered twice in one poll'));
        continue;
      }
      // Settled for good before d2?
      let settledAt = -1;
      let settleKind = '';
      if (d1.autoAck) {
        settledAt = d1.index;
        settleKind = 'after-ack';
      } else {
        const s = settleAfter(idx, d1.consumer, d1.id, d1.index, d2.index);
        if (s?.kind === 'nack-requeue') continue; // asked for it back
        if (s) {
          settledAt = s.index;
          settleKind = s.kind === 'ack' ? 'after-ack' : 'after-reject';
        } else if (d1.offset !== undefined) {
          const c = lastCommitBefore(idx, d1.group, d1.stream, d2.index);
          if (c && c.index > d1.index && c.offset > d1.offset) {
            settledAt = c.index;
            settleKind = 'after-commit';
          }
        }
      }
      if (settledAt >= 0) {
        if (settleKind === 'after-commit') {
          // A committed offset is durable: only a seek (or a broker restart) may bring the record back.
          if (seekBetween(idx, d1, settledAt, d2.index) >= 0 || firstBetween(idx.restarts, settledAt, d2.index) >= 0) continue;
        } else if (disruptedBetween(idx, d1.target, settledAt, d2.index) >= 0) {
          // An ack racing a crash may be lost with the connection.
          continue;
        }
        if (d1.mode === 'cluster' && settleKind !== 'after-commit') {
          const change = firstBetween(idx.memberships.get(d1.target), d1.index, d2.index);
          if (change >= 0) {
            out.push(makeCase(idx, 'rebalance-duplicate', settleKind, d1, d2, [settledAt, change], `delivered again in group ${d1.group} after a member joined or left (the first delivery had been ${SETTLED_WORD[settleKind]})`));
            continue;
          }
        }
        // Two members of a cluster group with no failure at all between: the group split nothing.
        if (d1.consumer !== d2.consumer && d1.mode === 'cluster' && disruptedBetween(idx, d1.target, d1.index, d2.index) < 0) {
          out.push(makeCase(idx, 'cluster-double-delivery', settleKind, d1, d2, [settledAt], `two members of group ${d1.group} received it with no failure between (the first had ${SETTLED_WORD[settleKind]} it)`));
        } else {
          out.push(makeCase(idx, 'duplicate', settleKind, d1, d2, [settledAt], `delivered again to ${d1.target} after it was ${SETTLED_WORD[settleKind]}`));
        }
        continue;
      }
      const why = disruptedBetween(idx, d1.target, d1.index, d2.index);
      if (why >= 0) continue;
      if (d1.consumer !== d2.consumer && d1.mode === 'cluster') {
        out.push(makeCase(idx, 'cluster-double-delivery', 'no-failure-between', d1, d2, [], `two members of group ${d1.group} received it with no failure, nack or rebalance between`));
      } else {
        out.push(makeCase(idx, 'duplicate', 'no-failure-between', d1, d2, [], `delivered twice to ${d1.target} with no failure, nack or seek between`));
      }
    }
  });
  return out;
}

function makeCase(idx: Indexes, anomaly: 'duplicate' | 'cluster-double-delivery' | 'rebalance-duplicate', kind: string, d1: DeliveryInfo, d2: DeliveryInfo, extra: number[], note: string): AnomalyCase {
  const send = idx.sends.get(d1.id);
  const ops = [...(send ? [send.invokeIndex] : []), d1.index, ...extra, d2.index];
  const offsets = d1.offset !== undefined && d2.offset !== undefined ? [d1.offset, d2.offset] : undefined;
  const c: AnomalyCase = { anomaly, kind, ids: [d1.id], target: d1.target, stream: d2.stream, consumers: [d1.consumer, d2.consumer], ops, times: timesOf(idx, ops), note };
  if (offsets) c.offsets = offsets;
  return c;
}

/**
 * One id stored at two different offsets of one stream: a delivery reports an offset other
 * than the one its send was acknowledged at (one case per extra offset).
 */
export function duplicateWriteCases(idx: Indexes): AnomalyCase[] {
  const out: AnomalyCase[] = [];
  const reported = new Map2<true>();
  for (const d of idx.deliveries) {
    const s = d.send;
    if (!s || d.offset === undefined || s.offset === undefined || s.stream !== d.stream || s.offset === d.offset || d.retry) continue;
    const key = String(d.offset);
    if (reported.has(d.id, key)) continue;
    reported.set(d.id, key, true);
    const ops = opsFor(idx, d.id);
    out.push({ anomaly: 'duplicate-write', ids: [d.id], stream: d.stream, offsets: [Math.min(s.offset, d.offset), Math.max(s.offset, d.offset)], ops, times: timesOf(idx, ops), note: `stored at two offsets of ${d.stream}` });
  }
  return out;
}

function opsFor(idx: Indexes, id: string): number[] {
  const s = idx.sends.get(id);
  const ops = s ? [s.invokeIndex] : [];
  for (const target of idx.targets.keys()) {
    for (const q of (idx.byTargetId.get(target, id) ?? []).slice(0, 3)) ops.push(idx.deliveries[q]!.index);
  }
  return ops;
}
