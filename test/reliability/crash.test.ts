/**
 * A short run of the crash campaign (scripts/reliability/crash-campaign.ts runs the long one):
 * real child processes SIGKILLed at random moments while appending to the storage core under each
 * flush policy, and while driving each engine. Nothing confirmed may be lost, no corrupt record
 * may be returned, no engine invariant may break.
 */
import t from 'tap';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runCoreCrashTrials } from '../../scripts/reliability/core-crash-trials';
import { runEngineCrashTrials } from '../../scripts/reliability/engine-crash-trials';

// Kept small: the long run is scripts/reliability/crash-campaign.ts.
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'mqlab-crash-test-'));
t.teardown(() => fs.rmSync(root, { recursive: true, force: true }));

for (const policy of ['none', 'async', 'sync'] as const) {
  t.test(`storage core, flush ${policy}: kill -9 at random moments loses nothing confirmed`, async (t) => {
    const s = await runCoreCrashTrials({ policy, trials: 4, root, trialsPerLog: 2 });
    t.equal(s.trials, 4);
    t.ok(s.confirmed > 0, `the children confirmed records before being killed (${s.confirmed})`);
    if (policy === 'sync') t.equal(s.confirmedDurable, s.confirmed, 'under sync every confirmation came after durable');
    t.equal(s.childFailures, 0, 'every child died by SIGKILL, not by an error');
    t.equal(s.lost, 0, 'no confirmed record lost');
    t.equal(s.corruptReturned, 0, 'no corrupt record returned by a scan');
    t.equal(s.corruptReported, 0, 'a process kill damages no written frame');
    t.equal(s.outOfOrder, 0, 'records come back in append order, without gaps');
    t.same(s.problems, []);
  });
}

for (const engine of ['kafka', 'rabbitmq', 'rocketmq'] as const) {
  t.test(`${engine} engine: kill -9 at random moments keeps its confirmed state`, async (t) => {
    const s = await runEngineCrashTrials({ engine, trials: 3, root, trialsPerDir: 3 });
    t.equal(s.trials, 3);
    t.ok(s.confirmed > 0, `the children confirmed work before being killed (${s.confirmed})`);
    t.equal(s.childFailures, 0, 'every child died by SIGKILL, not by an error');
    t.equal(s.lost, 0, 'nothing confirmed lost');
    t.equal(s.corrupt, 0, 'nothing damaged');
    t.equal(s.violations, 0, 'engine invariants hold after restart');
    t.same(s.problems.filter((p) => !p.includes('not marked redelivered')), []);
    if (engine === 'rabbitmq') {
      t.equal(s.redeliveredFlagMissing, 0, 'deliveries unacked at the kill come back with redelivered=true');
    }
  });
}
