/**
 * Offset anomalies, for streams whose deliveries carry offsets (partitions, RocketMQ queues).
 *
 * non-monotonic-offset: a consumer's offsets in one stream must increase from one delivery to
 *   the next unless the target was disrupted (rebalance, seek, restart) in between; and one
 *   offset of a stream holds one message (`offset-reused`).
 * poll-skip: stored messages the consumer should have read were jumped over and had not been
 *   delivered to the target before:
 *   - `gap`: between two consecutive deliveries of a consumer in a stream;
 *   - `seek`: after a seek, the first delivery is past the sought offset;
 *   - `resume`: after a (re)join, the first delivery is past the group's committed offset.
 *   Messages the consumer's tag filter rejects are not skips (their offsets advance silently).
 */
import type { AnomalyCase } from './anomalies';
import { disruptedBetween, filterRejects, idsAt, lastCommitBefore, timesOf, upperBound, type DeliveryInfo, type Indexes } from './indexes';
import { Map2 } from './map2';

export function offsetReuseCases(idx: Indexes): AnomalyCase[] {
  const out: AnomalyCase[] = [];
  for (const [stream, byOffset] of idx.streamOffsets) {
    for (const [offset, at] of byOffset) {
      if (typeof at === 'string') continue;
      const ids = at;
      const ops = ids.map((id) => idx.sends.get(id)?.invokeIndex ?? -1).filter((i) => i >= 0);
      out.push({ anomaly: 'non-monotonic-offset', kind: 'offset-reused', ids: [...ids], stream, offsets: [offset], ops, times: timesOf(idx, ops), note: `offset ${offset} of ${stream} holds ${ids.length} different messages` });
    }
  }
  return out;
}

export function nonMonotonicCases(idx: Indexes): AnomalyCase[] {
  const out: AnomalyCase[] = [];
  const prev = new Map2<DeliveryInfo>();
  for (const d of idx.deliveries) {
    if (d.offset === undefined || d.retry) continue;
    const p = prev.get(d.consumer, d.stream);
    prev.set(d.consumer, d.stream, d);
    if (!p || p.offset! < d.offset) continue;
    if (disruptedBetween(idx, d.target, p.index, d.index + 1) >= 0) continue;
    const ops = [p.index, d.index];
    out.push({ anomaly: 'non-monotonic-offset', kind: 'went-back', ids: [p.id, d.id], stream: d.stream, target: d.target, consumers: [d.consumer], offsets: [p.offset!, d.offset], ops, times: timesOf(idx, ops), note: `offset went from ${p.offset} to ${d.offset} in ${d.stream} with no seek or rebalance` });
  }
  return out;
}

/** Sorted known offsets per stream, built lazily. */
function sortedOffsets(idx: Indexes, cache: Map<string, number[]>, stream: string): number[] {
  let s = cache.get(stream);
  if (!s) {
    s = [...(idx.streamOffsets.get(stream)?.keys() ?? [])].sort((a, b) => a - b);
    cache.set(stream, s);
  }
  return s;
}

/** Known messages at offsets in [from, to) that `d`'s consumer should have got and its target had not. */
function skippedBetween(idx: Indexes, cache: Map<string, number[]>, d: DeliveryInfo, from: number, to: number): { ids: string[]; offsets: number[] } {
  const offsets = sortedOffsets(idx, cache, d.stream);
  const ids: string[] = [];
  const found: number[] = [];
  for (let i = upperBound(offsets, from - 1); i < offsets.length && offsets[i]! < to; i++) {
    const o = offsets[i]!;
    for (const id of idsAt(idx.streamOffsets.get(d.stream)!.get(o)!)) {
      const s = idx.sends.get(id);
      if (s && filterRejects(idx, d.consumer, s.topic, s.tags)) continue;
      const earlier = idx.byTargetId.get(d.target, id);
      if (earlier && idx.deliveries[earlier[0]!]!.index < d.index) continue;
      ids.push(id);
      found.push(o);
    }
    if (ids.length >= 10) break;
  }
  return { ids, offsets: found };
}

export function pollSkipCases(idx: Indexes): AnomalyCase[] {
  const out: AnomalyCase[] = [];
  const cache = new Map<string, number[]>();
  const prev = new Map2<DeliveryInfo>();
  for (const d of idx.deliveries) {
    if (d.offset === undefined || d.retry) continue;
    const p = prev.get(d.consumer, d.stream);
    prev.set(d.consumer, d.stream, d);
    const since = p ? p.index : -1;
    const fresh = !p || disruptedBetween(idx, d.target, p.index, d.index + 1) >= 0;
    if (!fresh) {
      if (d.offset <= p!.offset! + 1) continue;
      const sk = skippedBetween(idx, cache, d, p!.offset! + 1, d.offset);
      if (sk.ids.length === 0) continue;
      const ops = [p!.index, d.index];
      out.push({ anomaly: 'poll-skip', kind: 'gap', ids: sk.ids, stream: d.stream, target: d.target, consumers: [d.consumer], offsets: [p!.offset!, ...sk.offsets, d.offset], ops, times: timesOf(idx, ops), note: `${d.consumer} read offset ${p!.offset} then ${d.offset} of ${d.stream}, skipping ${sk.ids.length} stored message(s)` });
      continue;
    }
    // A fresh start: after a seek, from the sought offset; after a join, from the committed offset.
    const seeks = idx.seeks.get(d.consumer, d.stream);
    let seek: { index: number; offset: number } | undefined;
    if (seeks) for (const s of seeks) if (s.index > since && s.index < d.index) seek = s;
    let base: number | undefined;
    let kind = 'resume';
    let baseOp = -1;
    if (seek) {
      base = seek.offset;
      kind = 'seek';
      baseOp = seek.index;
    } else {
      const c = lastCommitBefore(idx, d.group, d.stream, d.index);
      if (c) {
        base = c.offset;
        baseOp = c.index;
      }
    }
    if (base === undefined || d.offset <= base) continue;
    const sk = skippedBetween(idx, cache, d, base, d.offset);
    if (sk.ids.length === 0) continue;
    const ops = [baseOp, d.index];
    out.push({ anomaly: 'poll-skip', kind, ids: sk.ids, stream: d.stream, target: d.target, consumers: [d.consumer], offsets: [base, ...sk.offsets, d.offset], ops, times: timesOf(idx, ops), note: `${d.consumer} started at offset ${d.offset} of ${d.stream}, past the ${kind === 'seek' ? 'sought' : 'committed'} offset ${base}` });
  }
  return out;
}
