/** Suite discovery and the runner's statuses: pass, fail with the reason, skip with the reason (never a pass). */
import * as path from 'node:path';
import t from 'tap';
import { resolveAdapter } from '../../conformance/adapter-loader';
import { runConformance } from '../../conformance/runner';
import { loadChecks } from '../../conformance/suites/registry';

const SUITES = [path.join(__dirname, 'fixtures', 'suites')];

t.test('the registry loads checks of the model, and reports files that fail to load', async (t) => {
  const loaded = loadChecks('kafka', SUITES);
  t.same(loaded.checks.map((c) => c.name), ['fixture/passes', 'fixture/needs-restart', 'fixture/direct-failure']);
  t.same(
    loaded.errors.map((e) => [path.basename(e.file), e.message]),
    [
      ['broken.ts', 'boom while loading'],
      ['zz-duplicate.ts', `check fixture/passes is also defined in ${path.join(SUITES[0]!, 'good.ts')}`],
    ],
  );
  t.same(loadChecks('rabbitmq', SUITES).checks.map((c) => c.name), ['fixture/other-model']);
});

t.test('the runner: pass, skip with reason, direct failure, load errors as failures', async (t) => {
  const run = await runConformance({ model: 'kafka', adapter: resolveAdapter('kafka', 'memory'), seed: 1, long: false, threads: 0, suiteDirs: SUITES, scale: { idleMs: 60 } });
  const by = new Map(run.results.map((r) => [r.name, r]));
  t.equal(by.get('fixture/passes')?.status, 'pass');
  t.equal(by.get('fixture/needs-restart')?.status, 'skip');
  t.equal(by.get('fixture/needs-restart')?.reason, 'adapter lacks capability broker-restart');
  t.equal(by.get('fixture/direct-failure')?.status, 'fail');
  t.equal(by.get('fixture/direct-failure')?.reason, 'the route table lists no broker {"brokers":[]}');
  t.same(run.counts, { pass: 1, fail: 3, skip: 1 }, 'two load errors and one direct failure fail; the skip is not a pass');
});
