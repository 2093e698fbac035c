/**
 * Lost and broadcast-member-missed. A message must reach each of its expected targets: the
 * targets the send named (`expect`), or else every target subscribed to its topic before the
 * send whose tag filter accepts it. The check only judges a target that was drained after the
 * send completed (the suite's statement "everything that was there has been read"). Sends that
 * failed, are of unknown outcome, were returned or nacked, or were fire-and-forget are exempt.
 * A miss by a broadcast member is `broadcast-member-missed`; any other miss is `lost`.
 */
import type { AnomalyCase } from './anomalies';
import { Map2 } from './map2';
import { filterRejects, timesOf, upperBound, type Indexes, type SendInfo, type TargetInfo } from './indexes';

function defaultTargets(idx: Indexes, s: SendInfo, byTopic: Map<string, TargetInfo[]>): string[] {
  const out: string[] = [];
  for (const t of byTopic.get(s.topic) ?? []) {
    if (t.firstIndex > s.invokeIndex) continue;
    // For broadcast targets the consumer is the member; filters are per consumer.
    const sub = [...idx.consumerSub.values()].find((c) => (c.mode === 'broadcast' ? `${c.group}@${c.member ?? c.consumer}` : c.group) === t.target && c.topic === s.topic);
    if (sub && filterRejects(idx, sub.consumer, s.topic, s.tags)) continue;
    out.push(t.target);
  }
  return out;
}

export function lostCases(idx: Indexes): AnomalyCase[] {
  const out: AnomalyCase[] = [];
  const byTopic = new Map<string, TargetInfo[]>();
  for (const t of idx.targets.values()) {
    for (const topic of t.topics) {
      const a = byTopic.get(topic);
      if (a) a.push(t);
      else byTopic.set(topic, [t]);
    }
  }
  // Expected targets depend only on (subscriptions before the send, topic, tag): cached per triple.
  const cache = new Map<number, Map2<string[]>>();
  const firstSubscribes = [...idx.targets.values()].map((t) => t.firstIndex).sort((a, b) => a - b);
  for (const s of idx.sends.values()) {
    if (s.status !== 'ok' || s.returned || s.nacked || s.mayLose || s.unroutable) continue;
    let expected = s.expect;
    if (!expected) {
      // Targets only depend on topic, tag and when the send happened relative to subscriptions.
      const before = upperBound(firstSubscribes, s.invokeIndex);
      let byTopicTag = cache.get(before);
      if (!byTopicTag) cache.set(before, (byTopicTag = new Map2()));
      const tag = s.tags ?? '\u0000none';
      expected = byTopicTag.get(s.topic, tag);
      if (!expected) byTopicTag.set(s.topic, tag, (expected = defaultTargets(idx, s, byTopic)));
    }
    for (const target of expected) {
      const drains = idx.drains.get(target);
      if (!drains) continue;
      const at = upperBound(drains, s.doneIndex);
      if (at >= drains.length) continue;
      if (idx.byTargetId.first(target, s.num) >= 0) continue;
      const info = idx.targets.get(target);
      const anomaly = info?.mode === 'broadcast' ? 'broadcast-member-missed' : 'lost';
      const ops = [s.invokeIndex, s.doneIndex, drains[at]!];
      const c: AnomalyCase = {
        anomaly,
        ids: [s.id],
        target,
        ops,
        times: timesOf(idx, ops),
        note: anomaly === 'lost' ? `sent to ${s.topic}, never delivered to ${target} though it was drained after the send` : `broadcast member ${target} never received it though it was subscribed and drained`,
      };
      if (s.stream !== undefined) c.stream = s.stream;
      if (s.offset !== undefined) c.offsets = [s.offset];
      out.push(c);
    }
  }
  return out;
}
