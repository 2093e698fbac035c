import t from 'tap';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { OffsetStore } from '../../core/kafka/offset-store';
import { openLog } from '../../core/kafka/storage';
import { tempDir } from './helpers';

function countRecords(dir: string): number {
  const log = openLog(dir, {});
  try {
    let n = 0;
    let pos = log.startPosition;
    while (pos < log.endPosition) {
      const { records, next } = log.readBatch(pos);
      n += records.length;
      pos = next;
    }
    return n;
  } finally {
    log.close();
  }
}

t.test('committed offsets survive reopen; a long log is compacted on open', async (t) => {
  const dir = path.join(tempDir(t), '__consumer_offsets');
  let store = new OffsetStore(dir, Date.now);
  // Concurrent commits share fdatasyncs (group commit), so 10 k of them stay quick.
  const commits: Promise<void>[] = [];
  for (let i = 0; i < 10_050; i++) commits.push(store.commit(i % 2 ? 'a' : 'b', [{ topic: 'events', partition: i % 3, offset: i }]));
  await Promise.all(commits);
  t.equal(store.get('a', 'events', 0), 10_047);
  store.close();
  t.equal(countRecords(dir), 10_050);
  store = new OffsetStore(dir, Date.now);
  t.same(
    [store.get('a', 'events', 0), store.get('a', 'events', 1), store.get('a', 'events', 2), store.get('b', 'events', 0), store.get('b', 'events', 1), store.get('b', 'events', 2)],
    [10_047, 10_045, 10_049, 10_044, 10_048, 10_046],
    'the last commit of each partition wins',
  );
  await store.commit('a', [{ topic: 'events', partition: 0, offset: 20_000 }]);
  store.close();
  t.equal(countRecords(dir), 3, 'compacted to one record per group, plus the later commit');
  t.notOk(fs.existsSync(dir + '.compact') || fs.existsSync(dir + '.old'), 'no leftovers');
  store = new OffsetStore(dir, Date.now);
  t.equal(store.get('a', 'events', 0), 20_000);
  t.equal(store.get('b', 'events', 2), 10_046);
  store.close();
});

t.test('a compaction interrupted by a crash is finished or dropped on open', async (t) => {
  const base = tempDir(t);
  const dir = path.join(base, 'offsets');
  let store = new OffsetStore(dir, Date.now);
  await store.commit('g', [{ topic: 't', partition: 0, offset: 5 }]);
  store.close();
  // Crash before the swap: a half-written .compact beside the intact log is dropped.
  fs.mkdirSync(dir + '.compact');
  fs.writeFileSync(path.join(dir + '.compact', 'junk'), 'x');
  store = new OffsetStore(dir, Date.now);
  t.equal(store.get('g', 't', 0), 5);
  t.notOk(fs.existsSync(dir + '.compact'));
  store.close();
  // Crash between the renames: the log is at .old, the complete new one at .compact.
  fs.renameSync(dir, dir + '.compact');
  fs.mkdirSync(dir + '.old');
  store = new OffsetStore(dir, Date.now);
  t.equal(store.get('g', 't', 0), 5, 'the compacted log is taken');
  t.notOk(fs.existsSync(dir + '.old') || fs.existsSync(dir + '.compact'));
  store.close();
});
