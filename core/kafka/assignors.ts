import type { AssignorName, TopicPartition } from './types';

/**
 * Kafka's partition assignment strategies (the consumer-side assignors the group leader runs).
 * Input: members sorted by member id, each with its subscribed topics and, for sticky, what it owned
 * in the previous generation; the partition count of each topic. Output: member id → partitions.
 * Every partition of a subscribed topic goes to exactly one member subscribed to that topic.
 */
export interface AssignorMember {
  memberId: string;
  topics: readonly string[];
  owned: readonly TopicPartition[];
}

export type Assignment = Map<string, TopicPartition[]>;

export const ASSIGNORS: Record<AssignorName, (members: readonly AssignorMember[], partitionsPerTopic: ReadonlyMap<string, number>) => Assignment> = {
  range: rangeAssign,
  roundrobin: roundRobinAssign,
  sticky: stickyAssign,
};

function emptyAssignment(members: readonly AssignorMember[]): Assignment {
  const out: Assignment = new Map();
  for (const m of members) out.set(m.memberId, []);
  return out;
}

function subscribedTopics(members: readonly AssignorMember[], partitionsPerTopic: ReadonlyMap<string, number>): string[] {
  const s = new Set<string>();
  for (const m of members) for (const t of m.topics) if (partitionsPerTopic.has(t)) s.add(t);
  return [...s].sort();
}

/** RangeAssignor: per topic, consecutive ranges; the first (n % members) members get one extra. */
export function rangeAssign(members: readonly AssignorMember[], partitionsPerTopic: ReadonlyMap<string, number>): Assignment {
  const out = emptyAssignment(members);
  for (const topic of subscribedTopics(members, partitionsPerTopic)) {
    const subs = members.filter((m) => m.topics.includes(topic));
    const n = partitionsPerTopic.get(topic)!;
    const per = Math.floor(n / subs.length);
    const extra = n % subs.length;
    subs.forEach((m, i) => {
      const start = per * i + Math.min(i, extra);
      const len = per + (i < extra ? 1 : 0);
      for (let p = start; p < start + len; p++) out.get(m.memberId)!.push({ topic, partition: p });
    });
  }
  return out;
}

/** RoundRobinAssignor: all partitions sorted by (topic, partition), dealt to members in turn. */
export function roundRobinAssign(members: readonly AssignorMember[], partitionsPerTopic: ReadonlyMap<string, number>): Assignment {
  const out = emptyAssignment(members);
  if (members.length === 0) return out;
  let next = 0;
  for (const topic of subscribedTopics(members, partitionsPerTopic)) {
    const n = partitionsPerTopic.get(topic)!;
    for (let p = 0; p < n; p++) {
      // Skip members not subscribed to this topic (there is at least one that is).
      while (!members[next % members.length]!.topics.includes(topic)) next++;
      out.get(members[next % members.length]!.memberId)!.push({ topic, partition: p });
      next++;
    }
  }
  return out;
}

/**
 * StickyAssignor: as balanced as round-robin, but a member keeps the partitions it owned before
 * wherever balance allows, so a rebalance moves as few partitions as possible.
 */
export function stickyAssign(members: readonly AssignorMember[], partitionsPerTopic: ReadonlyMap<string, number>): Assignment {
  const out = emptyAssignment(members);
  if (members.length === 0) return out;
  const key = (t: string, p: number) => `${t}\u0000${p}`;
  const all: TopicPartition[] = [];
  for (const topic of subscribedTopics(members, partitionsPerTopic)) for (let p = 0; p < partitionsPerTopic.get(topic)!; p++) all.push({ topic, partition: p });
  const quotaMin = Math.floor(all.length / members.length);
  let withExtra = all.length % members.length;
  const taken = new Set<string>();
  // 1. Keep previously owned partitions, up to the quota (quotaMin, or +1 for the first few).
  for (const m of members) {
    const mine = out.get(m.memberId)!;
    for (const tp of m.owned) {
      const k = key(tp.topic, tp.partition);
      const n = partitionsPerTopic.get(tp.topic);
      if (n === undefined || tp.partition >= n || !m.topics.includes(tp.topic) || taken.has(k)) continue;
      if (mine.length >= quotaMin + (withExtra > 0 ? 1 : 0)) break;
      mine.push({ topic: tp.topic, partition: tp.partition });
      taken.add(k);
    }
    if (mine.length > quotaMin) withExtra--;
  }
  // 2. Give each unowned partition to the least-loaded subscribed member (ties: lowest member id).
  for (const tp of all) {
    if (taken.has(key(tp.topic, tp.partition))) continue;
    let best: AssignorMember | undefined;
    for (const m of members) {
      if (!m.topics.includes(tp.topic)) continue;
      if (best === undefined || out.get(m.memberId)!.length < out.get(best.memberId)!.length) best = m;
    }
    out.get(best!.memberId)!.push(tp);
    taken.add(key(tp.topic, tp.partition));
  }
  for (const list of out.values()) list.sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition));
  return out;
}
