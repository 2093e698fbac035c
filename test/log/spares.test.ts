/**
 * The segment preparer: a spare segment is ready before a roll needs it, two when the log rolls
 * fast (within a second), and no spare file outlives the log or a crashed process.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import t from 'tap';
import { CommitLog } from '../../core/log';
import { payloadFor, removeDir, tempDir } from './helpers';

const spareFiles = (dir: string) => fs.readdirSync(dir).filter((f) => f.startsWith('next.spare')).sort();

async function until(what: () => boolean, ms = 5000): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!what()) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 5));
  }
  return true;
}

t.test('one spare is prepared at open, two once the log rolls fast', async (t) => {
  const dir = tempDir('spares');
  t.teardown(() => removeDir(dir));
  const log = CommitLog.open(dir, { segmentBytes: 64 * 1024 });
  t.ok(await until(() => spareFiles(dir).length === 1), `one spare after open (${spareFiles(dir)})`);
  // 64 KiB segments filled in well under a second: each roll asks for two.
  const positions: number[] = [];
  for (let i = 0; i < 3000; i++) positions.push(log.append(payloadFor(i, 100)));
  t.ok(log.segmentCount() >= 4, `rolled (${log.segmentCount()} segments)`);
  t.ok(await until(() => spareFiles(dir).length === 2), `two spares after fast rolls (${spareFiles(dir)})`);
  t.ok(positions.every((p, i) => log.read(p).payload.equals(payloadFor(i, 100))), 'every record readable across the rolls');
  log.close();
  t.same(spareFiles(dir), [], 'close removes the spares');
  const again = CommitLog.open(dir, { segmentBytes: 64 * 1024 });
  t.equal([...again.records()].length, 3000, 'reopened: all records, no spare mistaken for a segment');
  again.close();
});

t.test('leftover spare files of a crashed process are removed on open', (t) => {
  const dir = tempDir('spares-left');
  t.teardown(() => removeDir(dir));
  let log = CommitLog.open(dir);
  log.append(Buffer.from('x'));
  log.close();
  for (const name of ['next.spare', 'next.spare.0', 'next.spare.17']) fs.writeFileSync(path.join(dir, name), Buffer.alloc(4096, 7));
  log = CommitLog.open(dir);
  t.teardown(() => log.close());
  t.notOk(spareFiles(dir).some((f) => fs.statSync(path.join(dir, f)).size === 4096), `the leftovers are gone (${spareFiles(dir)})`);
  t.equal([...log.records()].length, 1);
  t.end();
});
