import t from 'tap';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { CommitLog } from '../../core/log';
import { removeDir, tempDir } from './helpers';

const CHILD = path.join(__dirname, '..', 'fixtures', 'log-open-child.ts');

function openInChild(dir: string): string {
  const r = spawnSync(process.execPath, ['--import', 'tsx', CHILD, dir], { encoding: 'utf8', timeout: 60_000 });
  return r.stdout.trim() || `exit ${r.status} ${r.stderr}`;
}

t.test('a second process opening the same log gets ERR_LOCKED', (t) => {
  const dir = tempDir('lock');
  t.teardown(() => removeDir(dir));
  const log = CommitLog.open(dir);
  t.equal(openInChild(dir), 'ERR_LOCKED');
  const again = CommitLog.open(dir);
  t.equal(again.endPosition, log.endPosition, 'the same process may open it again (shared log)');
  again.close();
  t.equal(openInChild(dir), 'ERR_LOCKED', 'still locked while one handle is open');
  log.close();
  t.equal(openInChild(dir), 'opened', 'free once every handle is closed');
  t.end();
});
