/**
 * The checker on a one-million-operation history: it must find exactly the planted faults. The
 * time is printed, not asserted (the machine is shared); see conformance/self-test/checker-bench.ts.
 */
import t from 'tap';
import { findAnomalies } from '../../conformance/checker/check-history';
import { syntheticHistory } from '../../conformance/self-test/synthetic-history';

t.test('1 M operations: planted faults found, time reported', async (t) => {
  const ops = syntheticHistory({ ops: 1_000_000, dropped: 3 });
  t.ok(ops.length >= 999_000, `history has ${ops.length} operations`);
  const t0 = process.hrtime.bigint();
  const cases = findAnomalies(ops);
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  t.comment(`checked ${ops.length} operations in ${ms.toFixed(0)} ms (${((ops.length / ms) * 1000).toFixed(0)} ops/s)`);
  const by = (a: string) => cases.filter((c) => c.anomaly === a).length;
  t.equal(by('lost'), 3, 'each dropped delivery is lost');
  t.equal(by('poll-skip'), 3, 'and a poll-skip');
  t.equal(cases.length, 6, 'nothing else');
});
