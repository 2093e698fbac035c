import { randomUUID } from 'node:crypto';
import type { AssignorName, TopicPartition } from './types';
import { ASSIGNORS } from './assignors';
import { KafkaErrors } from './errors';
import { Errors } from '../errors';
import { listArg, topicPartitionArg } from './validate';

/**
 * Kafka's classic (eager) consumer-group protocol, in process. A group moves
 *   Empty → PreparingRebalance → Stable → PreparingRebalance → …
 * A join by a new member, a leave, a changed subscription or an expired session (no heartbeat for
 * sessionTimeoutMs on the injected clock) starts a rebalance: every member must rejoin (its
 * heartbeat answers REBALANCE_IN_PROGRESS); once all have, or the rebalance timeout passes (members
 * that did not rejoin are removed), the generation is bumped and the assignor chosen by all members
 * splits the partitions. Commits carry (memberId, generation) and are refused with
 * ILLEGAL_GENERATION / UNKNOWN_MEMBER_ID when stale, so a member that lost a partition cannot
 * overwrite the new owner's progress.
 */
export type GroupState = 'Empty' | 'PreparingRebalance' | 'Stable';

export interface JoinRequest {
  memberId?: string;
  clientId: string;
  topics: readonly string[];
  assignors: readonly AssignorName[];
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
}

export type JoinResult =
  | { status: 'pending'; memberId: string }
  | { status: 'stable'; memberId: string; generation: number; assignment: TopicPartition[]; protocol: AssignorName; leader: string };

interface Member {
  memberId: string;
  clientId: string;
  topics: string[];
  assignors: AssignorName[];
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  lastSeen: number;
  joined: boolean;
  generation: number;
  assignment: TopicPartition[];
}

interface Group {
  id: string;
  state: GroupState;
  generation: number;
  protocol: AssignorName | null;
  leader: string;
  members: Map<string, Member>;
  rebalanceDeadline: number;
}

export interface GroupDescription {
  groupId: string;
  state: GroupState;
  generation: number;
  protocol: AssignorName | null;
  leader: string;
  members: Array<{ memberId: string; clientId: string; assignment: TopicPartition[] }>;
}

export class GroupCoordinator {
  private readonly groups = new Map<string, Group>();

  constructor(
    private readonly clock: () => number,
    private readonly partitionsOf: (topic: string) => number | undefined,
    private readonly onChange: () => void,
  ) {}

  private group(id: string): Group {
    if (typeof id !== 'string' || id.length === 0 || id.length > 255) throw KafkaErrors.invalidGroupId(id);
    let g = this.groups.get(id);
    if (g === undefined) {
      g = { id, state: 'Empty', generation: 0, protocol: null, leader: '', members: new Map(), rebalanceDeadline: 0 };
      this.groups.set(id, g);
    }
    return g;
  }

  join(groupId: string, req: JoinRequest): JoinResult {
    this.tick();
    const g = this.group(groupId);
    if (req === null || typeof req !== 'object' || !Array.isArray(req.topics) || req.topics.some((t) => typeof t !== 'string')) {
      throw Errors.invalidArg('join(request)', 'an object with a topics array of names');
    }
    if (!Array.isArray(req.assignors) || req.assignors.length === 0 || req.assignors.some((a) => typeof a !== 'string' || !Object.hasOwn(ASSIGNORS, a))) {
      throw Errors.invalidArg('join(request).assignors', `a non-empty list of ${Object.keys(ASSIGNORS).join(', ')}`);
    }
    const now = this.clock();
    let m: Member;
    if (req.memberId) {
      const known = g.members.get(req.memberId);
      if (known === undefined) throw KafkaErrors.unknownMember(groupId, req.memberId);
      m = known;
      m.lastSeen = now;
      if (!sameList(m.topics, req.topics) || !sameList(m.assignors, req.assignors)) {
        this.checkProtocols(g, req.assignors, m.memberId);
        m.topics = [...req.topics];
        m.assignors = [...req.assignors];
        this.startRebalance(g);
      }
    } else {
      this.checkProtocols(g, req.assignors, undefined);
      m = {
        memberId: `${req.clientId}-${randomUUID()}`,
        clientId: req.clientId,
        topics: [...req.topics],
        assignors: [...req.assignors],
        sessionTimeoutMs: req.sessionTimeoutMs,
        rebalanceTimeoutMs: req.rebalanceTimeoutMs,
        lastSeen: now,
        joined: false,
        generation: -1,
        assignment: [],
      };
      g.members.set(m.memberId, m);
      this.startRebalance(g);
    }
    if (g.state === 'Stable' && m.generation === g.generation) return this.stableResult(g, m);
    if (g.state !== 'PreparingRebalance') this.startRebalance(g);
    m.joined = true;
    this.maybeComplete(g);
    return g.state === 'Stable' && m.generation === g.generation ? this.stableResult(g, m) : { status: 'pending', memberId: m.memberId };
  }

  /** Keeps the session alive; throws when the member must rejoin. */
  heartbeat(groupId: string, memberId: string, generation: number): void {
    this.tick();
    const g = this.group(groupId);
    const m = g.members.get(memberId);
    if (m === undefined) throw KafkaErrors.unknownMember(groupId, memberId);
    m.lastSeen = this.clock();
    if (g.state === 'PreparingRebalance') throw KafkaErrors.rebalanceInProgress(groupId);
    if (generation !== g.generation) throw KafkaErrors.illegalGeneration(groupId, generation, g.generation);
  }

  leave(groupId: string, memberId: string): void {
    const g = this.groups.get(groupId);
    if (g === undefined || !g.members.delete(memberId)) return;
    this.afterRemoval(g);
  }

  /**
   * The member's client died and the coordinator can tell (an in-process client was dropped): handled
   * as an expired session — removed without a commit, the group rebalances. Without this call the
   * member is removed when its session times out.
   */
  sessionLost(groupId: string, memberId: string): void {
    this.leave(groupId, memberId);
  }

  /**
   * Checks that (memberId, generation) may commit offsets for `partitions`: a member of the current
   * generation that owns them (commits during PreparingRebalance are allowed, as in Kafka, so a member
   * can commit before giving its partitions up). memberId '' with generation -1 is a standalone
   * consumer (manual assign), allowed only while the group has no members.
   */
  validateCommit(groupId: string, memberId: string, generation: number, partitions: readonly TopicPartition[]): void {
    this.tick();
    const g = this.group(groupId);
    if (memberId === '' && generation < 0) {
      if (g.members.size > 0) throw KafkaErrors.illegalGeneration(groupId, generation, g.generation, 'the group has active members; a standalone consumer cannot commit for it');
      return;
    }
    const m = g.members.get(memberId);
    if (m === undefined) throw KafkaErrors.unknownMember(groupId, memberId);
    if (generation !== g.generation || m.generation !== g.generation) throw KafkaErrors.illegalGeneration(groupId, generation, g.generation);
    for (const tp of listArg(partitions, 'validateCommit(partitions)')) {
      topicPartitionArg(tp, 'validateCommit(partitions[i])');
      if (!m.assignment.some((a) => a.topic === tp.topic && a.partition === tp.partition)) {
        throw KafkaErrors.illegalGeneration(groupId, generation, g.generation, `${tp.topic}-${tp.partition} is not assigned to this member`);
      }
    }
  }

  /** Expires sessions and overdue rebalances against the clock. Called by every group operation. */
  tick(): void {
    const now = this.clock();
    for (const g of this.groups.values()) {
      let removed = false;
      for (const m of g.members.values()) {
        if (now - m.lastSeen > m.sessionTimeoutMs) {
          g.members.delete(m.memberId);
          removed = true;
        }
      }
      if (removed) this.afterRemoval(g);
      else if (g.state === 'PreparingRebalance' && now >= g.rebalanceDeadline) {
        for (const m of g.members.values()) if (!m.joined) g.members.delete(m.memberId);
        this.maybeComplete(g);
      }
    }
  }

  describe(groupId: string): GroupDescription {
    this.tick();
    const g = this.group(groupId);
    return {
      groupId,
      state: g.state,
      generation: g.generation,
      protocol: g.protocol,
      leader: g.leader,
      members: [...g.members.values()].map((m) => ({ memberId: m.memberId, clientId: m.clientId, assignment: m.assignment.map((a) => ({ ...a })) })),
    };
  }

  /** Re-runs assignment when a subscribed topic's partition count changed (a topic was created). */
  topicsChanged(topic: string): void {
    for (const g of this.groups.values()) {
      if (g.state === 'Stable' && [...g.members.values()].some((m) => m.topics.includes(topic))) this.startRebalance(g);
    }
  }

  private afterRemoval(g: Group): void {
    if (g.members.size === 0) {
      g.state = 'Empty';
      g.generation++;
      g.protocol = null;
      g.leader = '';
      this.onChange();
      return;
    }
    if (g.state !== 'PreparingRebalance') this.startRebalance(g);
    this.maybeComplete(g);
  }

  private startRebalance(g: Group): void {
    if (g.state === 'PreparingRebalance') return;
    g.state = 'PreparingRebalance';
    let timeout = 0;
    for (const m of g.members.values()) {
      m.joined = false;
      timeout = Math.max(timeout, m.rebalanceTimeoutMs);
    }
    g.rebalanceDeadline = this.clock() + timeout;
    this.onChange();
  }

  private maybeComplete(g: Group): void {
    if (g.state !== 'PreparingRebalance') return;
    for (const m of g.members.values()) if (!m.joined) return;
    if (g.members.size === 0) {
      this.afterRemoval(g);
      return;
    }
    const members = [...g.members.values()].sort((a, b) => (a.memberId < b.memberId ? -1 : 1));
    const protocol = this.chooseProtocol(members);
    const partitionsPerTopic = new Map<string, number>();
    for (const m of members) for (const t of m.topics) {
      const n = this.partitionsOf(t);
      if (n !== undefined) partitionsPerTopic.set(t, n);
    }
    const assignment = ASSIGNORS[protocol](members.map((m) => ({ memberId: m.memberId, topics: m.topics, owned: m.assignment })), partitionsPerTopic);
    g.generation++;
    g.protocol = protocol;
    g.leader = members[0]!.memberId;
    g.state = 'Stable';
    for (const m of members) {
      m.assignment = assignment.get(m.memberId) ?? [];
      m.generation = g.generation;
      m.joined = false;
    }
    this.onChange();
  }

  /** The first assignor (in the leader's order of preference) that every member supports. */
  private chooseProtocol(members: Member[]): AssignorName {
    for (const a of members[0]!.assignors) if (members.every((m) => m.assignors.includes(a))) return a;
    return members[0]!.assignors[0]!;
  }

  private checkProtocols(g: Group, offered: readonly AssignorName[], self: string | undefined): void {
    for (const m of g.members.values()) {
      if (m.memberId === self) continue;
      if (!offered.some((a) => m.assignors.includes(a))) throw KafkaErrors.inconsistentProtocol(g.id, [...offered]);
    }
  }

  private stableResult(g: Group, m: Member): JoinResult {
    return { status: 'stable', memberId: m.memberId, generation: g.generation, assignment: m.assignment.map((a) => ({ ...a })), protocol: g.protocol!, leader: g.leader };
  }
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
