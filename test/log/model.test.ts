/**
 * Model-based test: random sequences of append / appendBatch / read / readBatch / scan / reopen /
 * retention against an in-memory array of records. Small segments make rolls frequent.
 */
import t from 'tap';
import fc from 'fast-check';
import { CommitLog } from '../../core/log';
import { removeDir, tempDir } from './helpers';

interface Rec {
  position: number;
  payload: Buffer;
  timestamp: number;
}

interface Model {
  records: Rec[];
  /** Index of the first retained record. */
  first: number;
}

interface Real {
  log: CommitLog;
  dir: string;
}

const OPTIONS = { segmentBytes: 4096, maxRecordBytes: 1500, retention: { maxBytes: 20_000 } };
const payloadArb = fc.uint8Array({ maxLength: 1500 }).map((a) => Buffer.from(a));
const tsArb = fc.integer({ min: 0, max: 2 ** 40 });

function check(r: Real, rec: Rec): void {
  const got = r.log.read(rec.position);
  if (!got.payload.equals(rec.payload) || got.timestamp !== rec.timestamp) throw new Error(`record at ${rec.position} differs`);
}

class AppendCmd implements fc.Command<Model, Real> {
  constructor(readonly payload: Buffer, readonly ts: number) {}
  check = () => true;
  run(m: Model, r: Real): void {
    const expected = m.records.length ? m.records[m.records.length - 1]! : undefined;
    const p = r.log.append(this.payload, this.ts);
    if (expected && p !== r.log.read(expected.position).next) throw new Error('append position is not the previous next');
    m.records.push({ position: p, payload: this.payload, timestamp: this.ts });
    if (r.log.endPosition <= p) throw new Error('endPosition did not move');
  }
  toString = () => `append(${this.payload.length})`;
}

class AppendBatchCmd implements fc.Command<Model, Real> {
  constructor(readonly payloads: Buffer[], readonly ts: number) {}
  check = () => true;
  run(m: Model, r: Real): void {
    const first = r.log.appendBatch(this.payloads, this.ts);
    const { records } = r.log.readBatch(first, 1 << 30, this.payloads.length);
    if (records.length !== this.payloads.length) throw new Error('batch not readable in one readBatch');
    records.forEach((rec, i) => m.records.push({ position: rec.position, payload: this.payloads[i]!, timestamp: this.ts }));
  }
  toString = () => `appendBatch(${this.payloads.length})`;
}

class AppendPackedCmd implements fc.Command<Model, Real> {
  constructor(readonly payloads: Buffer[], readonly ts: number) {}
  check = () => true;
  run(m: Model, r: Real): void {
    const first = r.log.appendPacked(Buffer.concat(this.payloads), Uint32Array.from(this.payloads, (p) => p.length), this.ts);
    const { records } = r.log.readBatch(first, 1 << 30, this.payloads.length);
    if (records.length !== this.payloads.length) throw new Error('packed batch not readable in one readBatch');
    records.forEach((rec, i) => m.records.push({ position: rec.position, payload: this.payloads[i]!, timestamp: this.ts }));
  }
  toString = () => `appendPacked(${this.payloads.length})`;
}

class ReadCmd implements fc.Command<Model, Real> {
  constructor(readonly pick: number) {}
  check = (m: Readonly<Model>) => m.records.length > m.first;
  run(m: Model, r: Real): void {
    const i = m.first + (this.pick % (m.records.length - m.first));
    check(r, m.records[i]!);
  }
  toString = () => `read(${this.pick})`;
}

class ReadBatchCmd implements fc.Command<Model, Real> {
  constructor(readonly pick: number, readonly maxBytes: number, readonly maxRecords: number) {}
  check = (m: Readonly<Model>) => m.records.length > m.first;
  run(m: Model, r: Real): void {
    const i = m.first + (this.pick % (m.records.length - m.first));
    const { records, next } = r.log.readBatch(m.records[i]!.position, this.maxBytes, this.maxRecords);
    if (records.length < 1 || records.length > this.maxRecords) throw new Error(`batch of ${records.length}`);
    records.forEach((rec, k) => {
      const want = m.records[i + k]!;
      if (rec.position !== want.position || !rec.payload.equals(want.payload) || rec.timestamp !== want.timestamp) throw new Error('batch differs');
    });
    const after = m.records[i + records.length];
    if (next !== (after ? after.position : r.log.endPosition)) throw new Error('next is wrong');
  }
  toString = () => `readBatch(${this.pick}, ${this.maxBytes}, ${this.maxRecords})`;
}

class ScanCmd implements fc.Command<Model, Real> {
  check = () => true;
  run(m: Model, r: Real): void {
    const all = [...r.log.records()];
    if (all.length !== m.records.length - m.first) throw new Error(`scan found ${all.length}, model has ${m.records.length - m.first}`);
    all.forEach((rec, k) => {
      const want = m.records[m.first + k]!;
      if (rec.position !== want.position || !rec.payload.equals(want.payload)) throw new Error('scan differs');
    });
  }
  toString = () => 'scan';
}

class ReopenCmd implements fc.Command<Model, Real> {
  check = () => true;
  run(_m: Model, r: Real): void {
    const end = r.log.endPosition;
    r.log.close();
    r.log = CommitLog.open(r.dir, OPTIONS);
    if (r.log.endPosition !== end || r.log.recovery.truncatedBytes !== 0 || r.log.recovery.corrupt.length) throw new Error('reopen changed the log');
  }
  toString = () => 'reopen';
}

class RetentionCmd implements fc.Command<Model, Real> {
  check = () => true;
  run(m: Model, r: Real): void {
    const { startPosition } = r.log.applyRetention(0);
    while (m.first < m.records.length && m.records[m.first]!.position < startPosition) m.first++;
    const firstKept = m.records[m.first];
    if (firstKept && firstKept.position !== startPosition) throw new Error('start is not a record boundary of the model');
    if (r.log.endPosition - r.log.startPosition > 20_000 && r.log.segmentCount() > 1) throw new Error('retention left too much');
  }
  toString = () => 'retention';
}

t.test('CommitLog behaves like an array of records', (t) => {
  const commands = [
    fc.tuple(payloadArb, tsArb).map(([p, ts]) => new AppendCmd(p, ts)),
    fc.tuple(fc.array(fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)), { minLength: 1, maxLength: 40 }), tsArb)
      .map(([ps, ts]) => new AppendBatchCmd(ps, ts)),
    fc.tuple(fc.array(fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)), { minLength: 1, maxLength: 40 }), tsArb)
      .map(([ps, ts]) => new AppendPackedCmd(ps, ts)),
    fc.nat().map((n) => new ReadCmd(n)),
    fc.tuple(fc.nat(), fc.integer({ min: 1, max: 10_000 }), fc.integer({ min: 1, max: 50 })).map(([a, b, c]) => new ReadBatchCmd(a, b, c)),
    fc.constant(new ScanCmd()),
    fc.constant(new ReopenCmd()),
    fc.constant(new RetentionCmd()),
  ];
  const dirs: string[] = [];
  t.teardown(() => dirs.forEach(removeDir));
  fc.assert(
    fc.property(fc.commands(commands, { maxCommands: 60 }), (cmds) => {
      const dir = tempDir('model');
      dirs.push(dir);
      const real: Real = { dir, log: CommitLog.open(dir, OPTIONS) };
      try {
        fc.modelRun(() => ({ model: { records: [], first: 0 }, real }), cmds);
      } finally {
        real.log.close();
        removeDir(dir);
      }
    }),
    { numRuns: 40 },
  );
  t.end();
});
