/**
 * Routing anomalies, judged per delivery against what the send declared.
 *  - tag-filter-leak: the consumer subscribed to the message's topic with a tag filter that
 *    does not accept the message's tag.
 *  - unroutable-delivered: the send was declared unroutable, or the broker returned it.
 *  - misrouted: the send named its targets (`expect`) and this target is not one of them.
 */
import type { AnomalyCase } from './anomalies';
import { filterRejects, timesOf, type Indexes } from './indexes';

export function tagLeakCases(idx: Indexes): AnomalyCase[] {
  const out: AnomalyCase[] = [];
  for (const d of idx.deliveries) {
    const s = d.send;
    const topic = s?.topic;
    if (topic === undefined) continue;
    const tags = s?.tags ?? d.tags;
    if (!filterRejects(idx, d.consumer, topic, tags)) continue;
    const ops = [s!.invokeIndex, d.index];
    out.push({ anomaly: 'tag-filter-leak', ids: [d.id], target: d.target, stream: d.stream, consumers: [d.consumer], ops, times: timesOf(idx, ops), note: `tag ${JSON.stringify(tags)} delivered to ${d.consumer}, whose filter rejects it` });
  }
  return out;
}

export function routingCases(idx: Indexes): AnomalyCase[] {
  const out: AnomalyCase[] = [];
  for (const d of idx.deliveries) {
    const s = d.send;
    if (!s) continue;
    if (s.unroutable || s.returned) {
      const ops = [s.invokeIndex, d.index];
      out.push({ anomaly: 'unroutable-delivered', ids: [d.id], target: d.target, stream: d.stream, consumers: [d.consumer], ops, times: timesOf(idx, ops), note: `${s.returned ? 'returned as unroutable' : 'routed nowhere'} yet delivered to ${d.target}` });
    } else if (s.expect && !s.expect.includes(d.target)) {
      const ops = [s.invokeIndex, d.index];
      out.push({ anomaly: 'misrouted', ids: [d.id], target: d.target, stream: d.stream, consumers: [d.consumer], ops, times: timesOf(idx, ops), note: `delivered to ${d.target}, expected only ${s.expect.join(', ') || 'nowhere'}` });
    }
  }
  return out;
}
