/**
 * Faults from the file system: a full disk (a 2 MiB tmpfs), a read-only file system, a path that
 * is not a directory. Each must be a typed error with the data appended before still readable.
 */
import t from 'tap';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CommitLog, IndexFile } from '../../core/log';
import { codeOf, payloadFor, removeDir, tempDir } from './helpers';

function mount(dir: string, options: string): string | undefined {
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', dir], { encoding: 'utf8' });
  return r.status === 0 ? undefined : `cannot mount a tmpfs (${(r.stderr || r.error?.message || '').trim() || `exit ${r.status}`})`;
}

function unmount(dir: string): void {
  spawnSync('umount', [dir]);
}

t.test('disk full (ENOSPC) is ERR_NO_SPACE and earlier records stay readable', (t) => {
  const dir = tempDir('enospc');
  t.teardown(() => removeDir(dir));
  const why = mount(dir, 'size=2m');
  if (why) {
    t.plan(0, why); // reported as skipped, with the reason
    return;
  }
  t.teardown(() => unmount(dir));
  const logDir = path.join(dir, 'log');
  const log = CommitLog.open(logDir, { segmentBytes: 512 * 1024 });
  const positions: number[] = [];
  let code = 'no error';
  for (let i = 0; i < 100_000 && code === 'no error'; i++) {
    code = codeOf(() => positions.push(log.append(payloadFor(i, 500))));
  }
  t.equal(code, 'ERR_NO_SPACE', `appends stop with ERR_NO_SPACE after ${positions.length} records`);
  t.ok(positions.length > 1000, 'the segments that fit were used');
  t.equal(codeOf(() => log.append(payloadFor(0, 500))), 'ERR_NO_SPACE', 'still full');
  t.ok(positions.every((p, i) => log.read(p).payload.equals(payloadFor(i, 500))), 'every appended record readable');
  t.equal(log.endPosition, log.read(positions[positions.length - 1]!).next, 'nothing half-written at the end');
  log.close();
  const again = CommitLog.open(logDir, { segmentBytes: 512 * 1024 });
  t.equal([...again.records()].length, positions.length, 'and after reopening');
  again.close();
  t.equal(codeOf(() => IndexFile.open(path.join(dir, 'big.idx'), { entryBytes: 8, growBytes: 4 * 1024 * 1024 })), 'ERR_NO_SPACE');
  t.end();
});

t.test('a read-only file system is ERR_READ_ONLY', (t) => {
  const dir = tempDir('rofs');
  t.teardown(() => removeDir(dir));
  const why = mount(dir, 'size=1m,ro');
  if (why) {
    t.plan(0, why); // reported as skipped, with the reason
    return;
  }
  t.teardown(() => unmount(dir));
  t.equal(codeOf(() => CommitLog.open(path.join(dir, 'log'))), 'ERR_READ_ONLY', 'cannot create the directory');
  t.equal(codeOf(() => CommitLog.open(dir)), 'ERR_READ_ONLY', 'cannot create files in it');
  t.equal(codeOf(() => IndexFile.open(path.join(dir, 'x.idx'), { entryBytes: 8 })), 'ERR_READ_ONLY');
  t.end();
});

t.test('a path that is a file, or below a file, is ERR_IO', (t) => {
  const dir = tempDir('notdir');
  t.teardown(() => removeDir(dir));
  const file = path.join(dir, 'plain');
  fs.writeFileSync(file, 'x');
  t.equal(codeOf(() => CommitLog.open(file)), 'ERR_IO');
  t.equal(codeOf(() => CommitLog.open(path.join(file, 'log'))), 'ERR_IO');
  t.equal(codeOf(() => IndexFile.open(path.join(file, 'x.idx'), { entryBytes: 8 })), 'ERR_IO');
  t.equal(codeOf(() => CommitLog.open('')), 'ERR_INVALID_ARG');
  t.end();
});
