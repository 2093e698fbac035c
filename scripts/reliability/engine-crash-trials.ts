/**
 * Crash trials of the three model engines: a child drives an engine on a data directory and is
 * SIGKILLed at a random moment; the engine is reopened here through its public API and checked:
 *  - Kafka: every record acked with acks 'all' is at its (partition, offset), intact; the group's
 *    committed offsets are at least the last commit that resolved; a consumer of the group resumes
 *    exactly at the committed offset.
 *  - RabbitMQ: every confirmed persistent message that was not acked is in the queue after the
 *    restart, intact, once; those delivered but unacked at the kill come back redelivered.
 *  - RocketMQ: every sent message is in its ConsumeQueue at its queue offset; the ConsumeQueues are
 *    consistent with the CommitLog (offsets contiguous, entries match the messages, as many entries
 *    as CommitLog records); stored consumer offsets are at least the last persisted ones.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CommitLog } from '../../core/log';
import { KafkaEngine } from '../../core/kafka';
import { RabbitEngine } from '../../core/rabbitmq';
import { patternIndex } from './record-pattern';
import { collectLines, spawnTs, waitExit } from './spawn-ts';
import { KAFKA_GROUP, KAFKA_PARTITIONS, KAFKA_TOPIC, openCrashBroker, RABBIT_QUEUE, ROCKET_GROUP, ROCKET_QUEUES, ROCKET_TOPIC } from './crash-setup';

export type EngineName = 'kafka' | 'rabbitmq' | 'rocketmq';

export interface EngineCrashStats {
  engine: EngineName;
  trials: number;
  killedBeforeReady: number;
  /** Records/messages the child reported as confirmed (acked send, confirm, send returned). */
  confirmed: number;
  /** Offsets (Kafka commits, RocketMQ persisted consumer offsets) the child reported as stored. */
  offsetsConfirmed: number;
  lost: number;
  corrupt: number;
  /** Broken engine invariants: offset went back, resume at the wrong offset, CQ/CommitLog mismatch, duplicate. */
  violations: number;
  /** RabbitMQ: messages delivered (unacked) before the kill that came back with redelivered=false. */
  redeliveredFlagMissing: number;
  childFailures: number;
  problems: string[];
  /** Why children failed (kept apart so invariant messages cannot crowd them out). */
  childFailureDetails: string[];
}

interface TrialState {
  dir: string;
  nextIndex: number;
  /** kind-specific memory across the trials of one directory */
  confirmed: Map<number, string>;
  acked: Set<number>;
  offsets: Map<number, number>;
}

type Verify = (st: TrialState, lines: string[], s: EngineCrashStats) => Promise<void>;

function problem(s: EngineCrashStats, text: string): void {
  if (s.problems.length < 30) s.problems.push(text);
}

async function verifyKafka(st: TrialState, lines: string[], s: EngineCrashStats): Promise<void> {
  for (const line of lines) {
    const [k, a, b, c] = line.split(' ');
    if (k === 'P') {
      st.confirmed.set(Number(a), `${b}:${c}`);
      s.confirmed++;
    } else if (k === 'K' && b !== 'null') {
      const p = Number(a);
      st.offsets.set(p, Math.max(st.offsets.get(p) ?? 0, Number(b)));
      s.offsetsConfirmed++;
    }
  }
  const engine = KafkaEngine.open(st.dir, { retentionCheckIntervalMs: 0 });
  try {
    if (!engine.hasTopic(KAFKA_TOPIC)) {
      if (st.confirmed.size > 0) {
        s.lost += st.confirmed.size;
        problem(s, `${st.dir}: topic missing after restart`);
      }
      return;
    }
    const tps = Array.from({ length: KAFKA_PARTITIONS }, (_, partition) => ({ topic: KAFKA_TOPIC, partition }));
    const ends = new Map(engine.describeTopic(KAFKA_TOPIC).partitions.map((p) => [p.partition, p.logEndOffset]));
    const found = new Map<string, number>();
    let maxIndex = -1;
    const reader = engine.consumer({ autoCommit: false });
    reader.assign(tps);
    reader.seekToBeginning(tps);
    const expectOffset = new Map<number, number>();
    for (;;) {
      const recs = await reader.poll(0, 5000);
      if (recs.length === 0) break;
      for (const r of recs) {
        const i = r.value ? patternIndex(r.value) : -1;
        const want = expectOffset.get(r.partition) ?? 0;
        if (r.offset !== want) {
          s.violations++;
          problem(s, `${st.dir}: partition ${r.partition} offset ${r.offset} after ${want - 1}`);
        }
        expectOffset.set(r.partition, r.offset + 1);
        if (i < 0) {
          s.corrupt++;
          problem(s, `${st.dir}: record ${r.partition}:${r.offset} is not an intact pattern record`);
          continue;
        }
        found.set(`${r.partition}:${r.offset}`, i);
        maxIndex = Math.max(maxIndex, i);
      }
    }
    await reader.close();
    for (const [i, where] of st.confirmed) {
      if (found.get(where) !== i) {
        s.lost++;
        problem(s, `${st.dir}: acked record ${i} at ${where} missing (found ${found.get(where)})`);
      }
    }
    const committed = new Map(engine.committedOffsets(KAFKA_GROUP).map((c) => [c.partition, c.offset]));
    for (const [p, off] of st.offsets) {
      const now = committed.get(p) ?? -1;
      if (now < off || now > (ends.get(p) ?? 0)) {
        s.violations++;
        problem(s, `${st.dir}: committed offset of partition ${p} is ${now}, last resolved commit was ${off}, end ${ends.get(p)}`);
      }
      st.offsets.set(p, Math.max(off, now));
    }
    // A member of the group resumes exactly at the committed offset.
    const resumer = engine.consumer({ groupId: KAFKA_GROUP, autoCommit: false, autoOffsetReset: 'earliest' });
    resumer.assign(tps);
    const firstSeen = new Map<number, number>();
    for (let round = 0; round < 20 && firstSeen.size < KAFKA_PARTITIONS; round++) {
      const recs = await resumer.poll(0, 500);
      if (recs.length === 0) break;
      for (const r of recs) if (!firstSeen.has(r.partition)) firstSeen.set(r.partition, r.offset);
    }
    for (const [p, off] of committed) {
      if (off < (ends.get(p) ?? 0) && firstSeen.get(p) !== off) {
        s.violations++;
        problem(s, `${st.dir}: group resumed partition ${p} at ${firstSeen.get(p)}, committed ${off}`);
      }
    }
    await resumer.close();
    st.nextIndex = maxIndex + 1;
  } finally {
    engine.close();
  }
}

async function verifyRabbit(st: TrialState, lines: string[], s: EngineCrashStats): Promise<void> {
  const deliveredUnacked = new Set<number>();
  for (const line of lines) {
    const [k, a] = line.split(' ');
    const i = Number(a);
    if (k === 'P') {
      st.confirmed.set(i, 'confirmed');
      s.confirmed++;
    } else if (k === 'D') deliveredUnacked.add(i);
    else if (k === 'K') {
      st.acked.add(i);
      deliveredUnacked.delete(i);
    }
  }
  const engine = RabbitEngine.open(st.dir, { durability: 'sync' });
  try {
    const ch = await engine.createChannel();
    const present = new Map<number, boolean>();
    let maxIndex = st.nextIndex - 1;
    try {
      await ch.checkQueue(RABBIT_QUEUE);
    } catch {
      if (st.confirmed.size > st.acked.size) {
        s.lost += st.confirmed.size;
        problem(s, `${st.dir}: queue missing after restart`);
      }
      return;
    }
    for (;;) {
      const m = await ch.get(RABBIT_QUEUE, { noAck: false });
      if (!m) break;
      const i = patternIndex(m.content);
      if (i < 0) {
        s.corrupt++;
        problem(s, `${st.dir}: message is not an intact pattern message`);
        continue;
      }
      if (present.has(i)) {
        s.violations++;
        problem(s, `${st.dir}: message ${i} twice in the queue`);
      }
      present.set(i, m.fields.redelivered);
      maxIndex = Math.max(maxIndex, i);
    }
    for (const i of st.confirmed.keys()) {
      if (st.acked.has(i)) continue;
      if (!present.has(i)) {
        s.lost++;
        problem(s, `${st.dir}: confirmed unacked message ${i} missing after restart`);
      }
    }
    for (const i of deliveredUnacked) {
      if (present.get(i) === false) {
        // The delivered state is persisted with the next store flush: a kill in between loses the flag.
        if (s.redeliveredFlagMissing++ < 3) problem(s, `${st.dir}: message ${i} was delivered before the kill but is not marked redelivered`);
      }
    }
    // Acked ones may return (an ack is not confirmed); forget them so the next trial does not expect them.
    for (const i of [...st.confirmed.keys()]) if (!present.has(i)) st.confirmed.delete(i);
    st.nextIndex = maxIndex + 1;
    await ch.close();  // unacked gets go back to the queue for the next trial
  } finally {
    await engine.close();
  }
}

async function verifyRocket(st: TrialState, lines: string[], s: EngineCrashStats): Promise<void> {
  for (const line of lines) {
    const [k, a, b, c] = line.split(' ');
    if (k === 'S') {
      st.confirmed.set(Number(a), `${b}:${c}`);
      s.confirmed++;
    } else if (k === 'O') {
      st.offsets.set(Number(a), Math.max(st.offsets.get(Number(a)) ?? 0, Number(b)));
      s.offsetsConfirmed++;
    }
  }
  const broker = openCrashBroker(st.dir);
  let cqEntries = 0;
  let maxIndex = st.nextIndex - 1;
  try {
    if (!broker.topicList().includes(ROCKET_TOPIC)) {
      if (st.confirmed.size > 0) {
        s.lost += st.confirmed.size;
        problem(s, `${st.dir}: topic missing after restart`);
      }
      return;
    }
    const found = new Map<string, number>();
    for (let q = 0; q < ROCKET_QUEUES; q++) {
      const max = broker.getMaxOffset(ROCKET_TOPIC, q);
      let off = broker.getMinOffset(ROCKET_TOPIC, q);
      cqEntries += max - off;
      while (off < max) {
        const res = await broker.pullMessage({ group: 'verify_group', topic: ROCKET_TOPIC, queueId: q, queueOffset: off, maxMsgNums: 32 });
        if (res.msgFoundList.length === 0) {
          s.violations++;
          problem(s, `${st.dir}: queue ${q} offset ${off} below max ${max} returned ${res.pullStatus} with no message`);
          break;
        }
        for (const m of res.msgFoundList) {
          const i = patternIndex(m.body);
          if (m.queueOffset !== off || m.queueId !== q || m.topic !== ROCKET_TOPIC || i < 0 || i % ROCKET_QUEUES !== q) {
            s.violations++;
            problem(s, `${st.dir}: ConsumeQueue ${q} entry ${off} points at a message that does not match (${m.topic}/${m.queueId}/${m.queueOffset}, index ${i})`);
          }
          if (i >= 0) {
            found.set(`${q}:${m.queueOffset}`, i);
            maxIndex = Math.max(maxIndex, i);
          }
          off++;
        }
      }
    }
    for (const [i, where] of st.confirmed) {
      if (found.get(where) !== i) {
        s.lost++;
        problem(s, `${st.dir}: sent message ${i} at ${where} missing (found ${found.get(where)})`);
      }
    }
    for (const [q, off] of st.offsets) {
      const now = broker.queryConsumerOffset(ROCKET_GROUP, ROCKET_TOPIC, q);
      // -1 = no offset stored for the queue, the same as 0 for a queue never consumed from.
      if ((now < off && !(now === -1 && off === 0)) || now > broker.getMaxOffset(ROCKET_TOPIC, q)) {
        s.violations++;
        problem(s, `${st.dir}: consumer offset of queue ${q} is ${now}, last persisted ${off}`);
      }
    }
  } finally {
    broker.shutdown();
  }
  // Every CommitLog record is one message of the topic, so the ConsumeQueues must hold as many entries.
  const log = CommitLog.open(path.join(st.dir, 'commitlog'), { segmentBytes: 1024 * 1024 });
  let records = 0;
  try {
    for (const _ of log.records()) records++;
  } finally {
    log.close();
  }
  if (records !== cqEntries) {
    s.violations++;
    problem(s, `${st.dir}: CommitLog holds ${records} records, ConsumeQueues ${cqEntries} entries`);
  }
  st.nextIndex = maxIndex + 1;
}

/** Files under `dir` this process has open (a lock the checker failed to release would show here). */
function openFilesUnder(dir: string): string[] {
  const out: string[] = [];
  try {
    for (const fd of fs.readdirSync('/proc/self/fd')) {
      try {
        const target = fs.readlinkSync(`/proc/self/fd/${fd}`);
        if (target.startsWith(dir)) out.push(path.relative(dir, target));
      } catch {
        // closed meanwhile
      }
    }
  } catch {
    // no /proc
  }
  return out;
}

const CHILDREN: Record<EngineName, { file: string; verify: Verify }> = {
  kafka: { file: 'kafka-crash-child.ts', verify: verifyKafka },
  rabbitmq: { file: 'rabbitmq-crash-child.ts', verify: verifyRabbit },
  rocketmq: { file: 'rocketmq-crash-child.ts', verify: verifyRocket },
};

export interface EngineCrashOptions {
  engine: EngineName;
  trials: number;
  root: string;
  maxDelayMs?: number;
  trialsPerDir?: number;
  rng?: () => number;
}

export async function runEngineCrashTrials(o: EngineCrashOptions): Promise<EngineCrashStats> {
  const s: EngineCrashStats = { engine: o.engine, trials: 0, killedBeforeReady: 0, confirmed: 0, offsetsConfirmed: 0, lost: 0, corrupt: 0, violations: 0, redeliveredFlagMissing: 0, childFailures: 0, problems: [], childFailureDetails: [] };
  const rng = o.rng ?? Math.random;
  const perDir = o.trialsPerDir ?? 5;
  const maxDelay = o.maxDelayMs ?? 300;
  const { file, verify } = CHILDREN[o.engine];
  let st: TrialState | undefined;
  for (let t = 0; t < o.trials; t++) {
    if (t % perDir === 0) {
      if (st) fs.rmSync(st.dir, { recursive: true, force: true });
      st = { dir: path.join(o.root, `${o.engine}-${t}`), nextIndex: 0, confirmed: new Map(), acked: new Set(), offsets: new Map() };
    }
    const child = spawnTs(path.join(__dirname, file), [st!.dir, String(st!.nextIndex)]);
    const early = rng() < 0.125;
    let timer: NodeJS.Timeout | undefined;
    let ready = false;
    const out = collectLines(child, (line) => {
      if (!ready && line === 'R') {
        ready = true;
        if (!early) timer = setTimeout(() => child.kill('SIGKILL'), 20 + rng() * maxDelay);
      }
    });
    if (early) timer = setTimeout(() => child.kill('SIGKILL'), 100 + rng() * 900);
    const exit = await waitExit(child);
    if (timer) clearTimeout(timer);
    s.trials++;
    if (!ready) s.killedBeforeReady++;
    if (exit.signal !== 'SIGKILL') {
      s.childFailures++;
      const why = `${o.engine} trial ${t}: child exited ${exit.code ?? exit.signal}: ${out.stderr().slice(0, 600)}; files of the data dir this (checking) process still holds open: ${JSON.stringify(openFilesUnder(st!.dir))}`;
      problem(s, why);
      if (s.childFailureDetails.length < 20) s.childFailureDetails.push(why);
    }
    if (!fs.existsSync(st!.dir)) continue;
    try {
      await verify(st!, out.lines, s);
    } catch (e) {
      s.violations++;
      problem(s, `${o.engine} trial ${t}: reopen/verify failed: ${(e as Error).stack ?? String(e)}`.slice(0, 800));
    }
  }
  if (st) fs.rmSync(st.dir, { recursive: true, force: true });
  return s;
}
