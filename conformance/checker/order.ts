/**
 * Reorder: within one stream (partition, queue), first deliveries to a consumer must follow
 * send order where that order is established. A's send is ordered before B's when both are in
 * one batch (A first), or A's send completed before B's was invoked and either both came from
 * the same publisher (process: channel, producer) or A was confirmed by the broker. A send
 * that only reached a client socket (`unconfirmed`, a publish without confirms) orders nothing
 * relative to other publishers: brokers such as RabbitMQ order per channel only.
 * If A is ordered before B, both went to the same stream, and the consumer got B first and A
 * later, that is a reorder. Redeliveries, retries and delayed messages are excluded: only the
 * first delivery of a message to its target counts.
 */
import type { AnomalyCase } from './anomalies';
import { timesOf, type Indexes, type SendInfo } from './indexes';
import { Map2 } from './map2';

interface Seen {
  send: SendInfo;
  delivery: number;
}

/** The latest-sent first delivery a consumer has seen on a stream, overall and per publisher. */
interface StreamState {
  latest: Seen;
  byProcess: Map<string, Seen>;
}

export function orderedBefore(a: SendInfo, b: SendInfo): boolean {
  if (a.invokeIndex === b.invokeIndex) return a.position < b.position;
  if (a.doneIndex < 0 || a.doneIndex >= b.invokeIndex) return false;
  return a.process === b.process || a.confirmed;
}

function sentLater(b: SendInfo, a: SendInfo): boolean {
  return b.invokeIndex > a.invokeIndex || (b.invokeIndex === a.invokeIndex && b.position > a.position);
}

export function reorderCases(idx: Indexes): AnomalyCase[] {
  const out: AnomalyCase[] = [];
  const states = new Map2<StreamState>();
  for (const d of idx.deliveries) {
    if (d.retry || d.redelivered) continue;
    if (idx.byTargetId.first(d.target, d.num) !== d.seq) continue;
    const a = d.send;
    if (!a || a.delayed || a.doneIndex < 0) continue;
    const st = states.get(d.consumer, d.stream);
    if (!st) {
      const seen = { send: a, delivery: d.index };
      states.set(d.consumer, d.stream, { latest: seen, byProcess: new Map([[a.process, seen]]) });
      continue;
    }
    // The latest-sent delivery overall catches confirmed cross-publisher order; the latest from
    // A's own publisher catches per-publisher order that an unordered other publisher hides.
    const own = st.byProcess.get(a.process);
    const m = orderedBefore(a, st.latest.send) ? st.latest : own && orderedBefore(a, own.send) ? own : undefined;
    if (m) {
      const b = m.send;
      const ops = [a.invokeIndex, a.doneIndex, b.invokeIndex, m.delivery, d.index];
      out.push({ anomaly: 'reorder', ids: [a.id, b.id], stream: d.stream, target: d.target, consumers: [d.consumer], ops, times: timesOf(idx, ops), note: `${a.id} was sent before ${b.id} but delivered after it` });
      continue;
    }
    const seen = { send: a, delivery: d.index };
    if (sentLater(a, st.latest.send)) st.latest = seen;
    if (!own || sentLater(a, own.send)) st.byProcess.set(a.process, seen);
  }
  return out;
}
