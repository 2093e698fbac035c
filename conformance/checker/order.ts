/**
 * Reorder: within one stream (partition, queue), first deliveries to a consumer must follow
 * send order. If A's send completed before B's send was invoked (or A came before B in one
 * batch), both went to the same stream, and the consumer got B first and A later, that is a
 * reorder. Redeliveries, retries and delayed messages are excluded: only the first delivery of
 * a message to its target counts.
 */
import type { AnomalyCase } from './anomalies';
import { timesOf, type Indexes, type SendInfo } from './indexes';
import { Map2 } from './map2';

export function reorderCases(idx: Indexes): AnomalyCase[] {
  const out: AnomalyCase[] = [];
  const latest = new Map2<{ send: SendInfo; delivery: number }>();
  for (const d of idx.deliveries) {
    if (d.retry || d.redelivered) continue;
    const firsts = idx.byTargetId.get(d.target, d.id)!;
    if (firsts[0] !== d.seq) continue;
    const a = d.send;
    if (!a || a.delayed || a.doneIndex < 0) continue;
    const m = latest.get(d.consumer, d.stream);
    if (m) {
      const b = m.send;
      const aBeforeB = a.invokeIndex === b.invokeIndex ? a.position < b.position : a.doneIndex < b.invokeIndex;
      if (aBeforeB) {
        const ops = [a.invokeIndex, a.doneIndex, b.invokeIndex, m.delivery, d.index];
        out.push({ anomaly: 'reorder', ids: [a.id, b.id], stream: d.stream, target: d.target, consumers: [d.consumer], ops, times: timesOf(idx, ops), note: `${a.id} was sent before ${b.id} but delivered after it` });
        continue;
      }
      if (b.invokeIndex > a.invokeIndex || (b.invokeIndex === a.invokeIndex && b.position > a.position)) continue;
    }
    latest.set(d.consumer, d.stream, { send: a, delivery: d.index });
  }
  return out;
}
