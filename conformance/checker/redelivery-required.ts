/**
 * missing-redelivery: the last delivery of a message to a target left it owed — nacked with
 * requeue, or held unsettled (no ack, offset not committed) by a consumer that then crashed or
 * closed — yet it never came back, although the target was drained after that. Auto-acked
 * deliveries and messages that used up their delivery limit owe nothing.
 *
 * redelivery-past-limit: more deliveries of one message to a target than its `maxDeliveries`.
 */
import type { AnomalyCase } from './anomalies';
import { lastCommitBefore, settleAfter, timesOf, upperBound, type Indexes } from './indexes';

export function missingRedeliveryCases(idx: Indexes): AnomalyCase[] {
  const out: AnomalyCase[] = [];
  idx.byTargetId.each((seqs) => {
    const d = idx.deliveries[seqs[seqs.length - 1]!]!;
    if (d.autoAck) return;
    const t = idx.targets.get(d.target);
    if (t?.maxDeliveries !== undefined && seqs.length >= t.maxDeliveries) return;
    let trigger = -1;
    let why = '';
    const s = settleAfter(idx, d.consumer, d.id, d.index);
    if (s?.kind === 'nack-requeue') {
      trigger = s.index;
      why = 'nacked with requeue';
    } else if (!s) {
      const exits = idx.exits.get(d.consumer);
      const exit = exits ? exits[upperBound(exits, d.index)] : undefined;
      if (exit !== undefined) {
        const committed = d.offset !== undefined ? lastCommitBefore(idx, d.group, d.stream, exit) : undefined;
        if (!(committed && committed.offset > d.offset!)) {
          trigger = exit;
          why = `held unsettled by ${d.consumer} when it ${idx.ops[exit]!.f === 'crash' ? 'crashed' : 'closed'}`;
        }
      }
    }
    if (trigger < 0) return;
    const drains = idx.drains.get(d.target);
    if (!drains) return;
    const at = upperBound(drains, trigger);
    if (at >= drains.length) return;
    const ops = [d.index, trigger, drains[at]!];
    const c: AnomalyCase = { anomaly: 'missing-redelivery', ids: [d.id], target: d.target, stream: d.stream, consumers: [d.consumer], ops, times: timesOf(idx, ops), note: `${why}, never redelivered to ${d.target} though it was drained after` };
    if (d.offset !== undefined) c.offsets = [d.offset];
    out.push(c);
  });
  return out;
}

export function pastLimitCases(idx: Indexes): AnomalyCase[] {
  const out: AnomalyCase[] = [];
  idx.byTargetId.each((seqs) => {
    const first = idx.deliveries[seqs[0]!]!;
    const max = idx.targets.get(first.target)?.maxDeliveries;
    if (max === undefined || seqs.length <= max) return;
    const over = seqs.slice(max).map((q) => idx.deliveries[q]!);
    const ops = [idx.deliveries[seqs[max - 1]!]?.index ?? first.index, ...over.map((o) => o.index)].slice(0, 6);
    out.push({ anomaly: 'redelivery-past-limit', ids: [first.id], target: first.target, consumers: [...new Set(over.map((o) => o.consumer))], ops, times: timesOf(idx, ops), note: `delivered ${seqs.length} times to ${first.target}, limit ${max}` });
  });
  return out;
}
