/**
 * Indexes built once over a history; every anomaly function reads them and nothing else.
 *
 * Message ids are interned to integers once; (target, id) deliveries live in typed arrays
 * (target-id-index.ts). Other pair lookups (consumer + stream, ...) use two-level maps (map2.ts), and event lists are sorted by op index so "is there an X between op a and op b" is a binary
 * search. Building is one pass over the history plus one pass over the deliveries.
 */
import type { Delivered, Op, SendRequest, SentMessage, Subscription } from '../history/ops';
import { targetOf } from '../history/ops';
import { Map2 } from './map2';
import { IdTable, TargetIdIndex } from './target-id-index';

/** Ids stored at one offset: a single id, or several when the offset was reused. */
export type IdsAt = string | string[];

export function idsAt(v: IdsAt): string[] {
  return typeof v === 'string' ? [v] : v;
}

export type SendStatus = 'ok' | 'fail' | 'info' | 'pending';

export interface SendInfo {
  id: string;
  /** The id's number in `Indexes.ids`. */
  num: number;
  topic: string;
  tags: string | null;
  expect: string[] | undefined;
  unroutable: boolean;
  mayLose: boolean;
  delayed: boolean;
  process: string;
  invokeIndex: number;
  /** Position in its batch (order of messages within one send op). */
  position: number;
  /** Index of the completion op, -1 while pending. */
  doneIndex: number;
  status: SendStatus;
  stream: string | undefined;
  offset: number | undefined;
  returned: boolean;
  nacked: boolean;
  /** Completed ok and acknowledged by the broker (not merely written to a socket). */
  confirmed: boolean;
}

export interface DeliveryInfo {
  /** Op index of the poll. */
  index: number;
  /** Position of this delivery in `Indexes.deliveries`. */
  seq: number;
  consumer: string;
  group: string;
  target: string;
  mode: Subscription['mode'];
  stream: string;
  offset: number | undefined;
  id: string;
  /** The id's number in `Indexes.ids`. */
  num: number;
  redelivered: boolean;
  autoAck: boolean;
  retry: boolean;
  tags: string | null | undefined;
  /** The send of this message, when the history has it (looked up once here). */
  send: SendInfo | undefined;
}

export interface Settle {
  index: number;
  kind: 'ack' | 'nack-requeue' | 'nack-drop';
}

export interface Commit {
  index: number;
  offset: number;
}

export interface TargetInfo {
  target: string;
  group: string;
  mode: Subscription['mode'];
  topics: Set<string>;
  firstIndex: number;
  maxDeliveries: number | undefined;
  ack: Subscription['ack'];
}

export interface Indexes {
  ops: readonly Op[];
  sends: Map<string, SendInfo>;
  /** Message ids interned to integers. */
  ids: IdTable;
  deliveries: DeliveryInfo[];
  /** (target, id) -> positions in `deliveries`, in order. */
  byTargetId: TargetIdIndex;
  /** consumer -> its latest subscription (group, mode, ack). */
  consumerSub: Map<string, Subscription>;
  /** (consumer, topic) -> tag filter (non-empty). */
  filters: Map2<Set<string>>;
  targets: Map<string, TargetInfo>;
  /** target -> sorted op indexes of events that may legitimately cause redelivery (joins, crashes, closes, seeks, restarts). */
  disruptions: Map<string, number[]>;
  /** target -> sorted op indexes of membership changes of its group (joins, crashes, closes). */
  memberships: Map<string, number[]>;
  /** global broker restarts. */
  restarts: number[];
  /** (consumer, id) -> settles in order. */
  settles: Map2<Settle[]>;
  /** (group, stream) -> commits in order. */
  commits: Map2<Commit[]>;
  /** target -> op indexes of seeks by any of its consumers. */
  targetSeeks: Map<string, number[]>;
  /** (consumer, stream) -> seeks in order. */
  seeks: Map2<{ index: number; offset: number }[]>;
  /** consumer -> crash / close op indexes in order. */
  exits: Map<string, number[]>;
  /** target -> drain op indexes in order. */
  drains: Map<string, number[]>;
  /** stream -> offset -> ids seen there (sends and deliveries). */
  streamOffsets: Map<string, Map<number, IdsAt>>;
}

function pushTo<K, V>(m: Map<K, V[]>, k: K, v: V): void {
  const a = m.get(k);
  if (a) a.push(v);
  else m.set(k, [v]);
}

interface Obj {
  [k: string]: unknown;
}

function asObj(v: unknown): Obj {
  return v !== null && typeof v === 'object' ? (v as Obj) : {};
}

function addStreamOffset(idx: Indexes, stream: string, offset: number, id: string): void {
  let m = idx.streamOffsets.get(stream);
  if (!m) idx.streamOffsets.set(stream, (m = new Map()));
  const ids = m.get(offset);
  if (ids === undefined) m.set(offset, id);
  else if (typeof ids === 'string') {
    if (ids !== id) m.set(offset, [ids, id]);
  } else if (!ids.includes(id)) ids.push(id);
}

export function buildIndexes(ops: readonly Op[]): Indexes {
  const ids = new IdTable();
  const idx: Indexes = {
    ops,
    sends: new Map(),
    ids,
    deliveries: [],
    byTargetId: new TargetIdIndex(ids),
    consumerSub: new Map(),
    filters: new Map2(),
    targets: new Map(),
    disruptions: new Map(),
    memberships: new Map(),
    restarts: [],
    settles: new Map2(),
    commits: new Map2(),
    seeks: new Map2(),
    targetSeeks: new Map(),
    exits: new Map(),
    drains: new Map(),
    streamOffsets: new Map(),
  };
  // id number -> its send (dense: filled up to the highest number seen).
  const sendByNum: (SendInfo | undefined)[] = [];
  // Pending send invocations per process (a process may pipeline several).
  const pendingSends = new Map<string, SendInfo[][]>();
  const groupTargets = new Map<string, Set<string>>();
  const disrupt = (target: string, index: number) => pushTo(idx.disruptions, target, index);
  // Joins and exits change a group's membership: a rebalance as well as a disruption.
  const disruptGroup = (group: string, index: number) => {
    for (const t of groupTargets.get(group) ?? []) {
      disrupt(t, index);
      pushTo(idx.memberships, t, index);
    }
  };

  for (let i = 0; i < ops.length; i++) {
    const op = ops[i]!;
    const v = asObj(op.value);
    switch (op.f) {
      case 'send': {
        if (op.type === 'invoke') {
          const batch: SendInfo[] = [];
          const msgs = Array.isArray(v.messages) ? (v.messages as SendRequest[]) : [];
          for (let position = 0; position < msgs.length; position++) {
            const m = msgs[position]!;
            const num = ids.intern(m.id);
            const s: SendInfo = {
              id: m.id,
              num,
              topic: m.topic,
              tags: m.tags ?? null,
              expect: m.expect,
              unroutable: m.unroutable === true,
              mayLose: m.mayLose === true,
              delayed: m.delayed === true,
              process: op.process,
              invokeIndex: op.index,
              position,
              doneIndex: -1,
              status: 'pending',
              stream: undefined,
              offset: undefined,
              returned: false,
              nacked: false,
              confirmed: false,
            };
            idx.sends.set(m.id, s);
            while (sendByNum.length < num) sendByNum.push(undefined);
            sendByNum[num] = s;
            batch.push(s);
          }
          pushTo(pendingSends, op.process, batch);
        } else {
          const queue = pendingSends.get(op.process);
          const results = Array.isArray(v.messages) ? (v.messages as SentMessage[]) : [];
          // Completions match invocations by id when the result names them, else FIFO.
          let batch: SendInfo[] | undefined;
          if (queue && queue.length > 0) {
            const firstId = results[0]?.id;
            const at = firstId === undefined ? 0 : queue.findIndex((b) => b.some((s) => s.id === firstId));
            batch = queue.splice(at < 0 ? 0 : at, 1)[0];
          }
          for (const s of batch ?? []) {
            s.doneIndex = op.index;
            s.status = op.type;
          }
          if (op.type === 'ok') {
            for (let k = 0; k < results.length; k++) {
              const r = results[k]!;
              // Results usually come in batch order: no lookup then.
              const s = batch !== undefined && batch[k]?.id === r.id ? batch[k] : idx.sends.get(r.id);
              if (!s) continue;
              s.stream = r.stream;
              s.offset = r.offset ?? undefined;
              s.returned = r.returned === true;
              s.nacked = r.nacked === true;
              s.confirmed = r.unconfirmed !== true;
              if (r.stream !== undefined && typeof r.offset === 'number') addStreamOffset(idx, r.stream, r.offset, r.id);
            }
          }
        }
        break;
      }
      case 'subscribe': {
        if (op.type !== 'ok') break;
        const sub = v as unknown as Subscription;
        idx.consumerSub.set(sub.consumer, sub);
        const target = targetOf(sub);
        let t = idx.targets.get(target);
        if (!t) {
          t = { target, group: sub.group, mode: sub.mode, topics: new Set(), firstIndex: op.index, maxDeliveries: sub.maxDeliveries, ack: sub.ack };
          idx.targets.set(target, t);
        }
        t.topics.add(sub.topic);
        if (sub.maxDeliveries !== undefined) t.maxDeliveries = sub.maxDeliveries;
        let gt = groupTargets.get(sub.group);
        if (!gt) groupTargets.set(sub.group, (gt = new Set()));
        gt.add(target);
        if (sub.tags && sub.tags.length > 0 && !sub.tags.includes('*')) idx.filters.set(sub.consumer, sub.topic, new Set(sub.tags));
        disruptGroup(sub.group, op.index);
        break;
      }
      case 'poll': {
        if (op.type !== 'ok') break;
        const consumer = typeof v.consumer === 'string' ? v.consumer : op.process;
        const sub = idx.consumerSub.get(consumer);
        const msgs = Array.isArray(v.messages) ? (v.messages as Delivered[]) : [];
        const target = sub ? targetOf(sub) : consumer;
        for (const m of msgs) {
          const num = ids.intern(m.id);
          const d: DeliveryInfo = {
            index: op.index,
            seq: idx.deliveries.length,
            consumer,
            group: sub?.group ?? consumer,
            target,
            mode: sub?.mode ?? 'cluster',
            stream: m.stream,
            offset: typeof m.offset === 'number' ? m.offset : undefined,
            id: m.id,
            num,
            redelivered: m.redelivered === true,
            autoAck: m.autoAck ?? sub?.ack === 'auto',
            retry: m.retry === true,
            tags: m.tags,
            send: num < sendByNum.length ? sendByNum[num] : undefined,
          };
          idx.deliveries.push(d);
          idx.byTargetId.push(d.target, num, d.seq);
          if (d.offset !== undefined && !d.retry) addStreamOffset(idx, d.stream, d.offset, d.id);
        }
        break;
      }
      case 'ack':
      case 'nack': {
        // Settles count from their invocation: a requeued message may come back before the call returns.
        if (op.type !== 'invoke') break;
        const consumer = typeof v.consumer === 'string' ? v.consumer : op.process;
        const kind: Settle['kind'] = op.f === 'ack' ? 'ack' : v.requeue === false ? 'nack-drop' : 'nack-requeue';
        for (const id of Array.isArray(v.ids) ? (v.ids as string[]) : []) Map2.push(idx.settles, consumer, id, { index: op.index, kind });
        break;
      }
      case 'commit': {
        if (op.type !== 'ok') break;
        const consumer = typeof v.consumer === 'string' ? v.consumer : op.process;
        const group = typeof v.group === 'string' ? v.group : idx.consumerSub.get(consumer)?.group ?? consumer;
        const offsets = Array.isArray(v.offsets) ? (v.offsets as { stream: string; offset: number }[]) : [];
        for (const o of offsets) Map2.push(idx.commits, group, o.stream, { index: op.index, offset: o.offset });
        break;
      }
      case 'seek': {
        if (op.type !== 'ok') break;
        const consumer = typeof v.consumer === 'string' ? v.consumer : op.process;
        Map2.push(idx.seeks, consumer, String(v.stream), { index: op.index, offset: Number(v.offset) });
        const sub = idx.consumerSub.get(consumer);
        if (sub) {
          disrupt(targetOf(sub), op.index);
          pushTo(idx.targetSeeks, targetOf(sub), op.index);
        }
        break;
      }
      case 'crash':
      case 'close': {
        // A crash counts from its invocation: the consumer may be gone before the call returns.
        if (op.type !== 'invoke') break;
        const consumer = typeof v.consumer === 'string' ? v.consumer : op.process;
        pushTo(idx.exits, consumer, op.index);
        const sub = idx.consumerSub.get(consumer);
        if (sub) disruptGroup(sub.group, op.index);
        break;
      }
      case 'restart': {
        if (op.type === 'invoke') idx.restarts.push(op.index);
        break;
      }
      case 'drain': {
        if (op.type !== 'ok') break;
        for (const t of Array.isArray(v.targets) ? (v.targets as string[]) : []) pushTo(idx.drains, t, op.index);
        break;
      }
      default:
        break;
    }
  }
  return idx;
}

/** First position in sorted `xs` with value > `x`. */
export function upperBound(xs: readonly number[], x: number): number {
  let lo = 0;
  let hi = xs.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (xs[mid]! <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The first element of sorted `xs` in the open interval (a, b), or -1. */
export function firstBetween(xs: readonly number[] | undefined, a: number, b: number): number {
  if (!xs || xs.length === 0) return -1;
  const i = upperBound(xs, a);
  return i < xs.length && xs[i]! < b ? xs[i]! : -1;
}

/** Whether something disrupted `target` (or a broker restart happened) strictly between ops a and b. */
export function disruptedBetween(idx: Indexes, target: string, a: number, b: number): number {
  const t = firstBetween(idx.disruptions.get(target), a, b);
  if (t >= 0) return t;
  return firstBetween(idx.restarts, a, b);
}

/** The last commit of (group, stream) with index < b, or undefined. */
export function lastCommitBefore(idx: Indexes, group: string, stream: string, b: number): Commit | undefined {
  const cs = idx.commits.get(group, stream);
  if (!cs) return undefined;
  let lo = 0;
  let hi = cs.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (cs[mid]!.index < b) lo = mid + 1;
    else hi = mid;
  }
  return lo > 0 ? cs[lo - 1] : undefined;
}

/** The first settle of `id` by `consumer` after op `a` (and before `b`), or undefined. */
export function settleAfter(idx: Indexes, consumer: string, id: string, a: number, b = Infinity): Settle | undefined {
  const ss = idx.settles.get(consumer, id);
  if (!ss) return undefined;
  for (const s of ss) {
    if (s.index > a) return s.index < b ? s : undefined;
  }
  return undefined;
}

/** Whether a consumer's tag filter (for the message's topic) rejects this message's tag. */
export function filterRejects(idx: Indexes, consumer: string, topic: string, tags: string | null | undefined): boolean {
  const f = idx.filters.get(consumer, topic);
  if (!f) return false;
  return !(tags != null && f.has(tags));
}

export function timesOf(idx: Indexes, opIndexes: readonly number[]): number[] {
  return opIndexes.map((i) => idx.ops[i]?.time ?? -1);
}
