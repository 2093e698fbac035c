/**
 * Runs one model's conformance suites (conformance/suites/cross + <model>) against the real
 * broker through the real-broker adapter, one tap subtest per check:
 *  - pass: asserted as a pass;
 *  - skip: shown as a skip with the runner's reason (missing capability, --long only);
 *  - fail: a failure. A broker's documented behaviour is expressed by the check itself (and
 *    stated with its reference in docs/peers.md, "Deviations"), never by excusing a failure here.
 * The whole file skips, with the reason printed, when the broker is not running.
 */
import type { Test } from 'tap';
import { resolveAdapter } from '../../conformance/adapter-loader';
import { runConformance, type CheckResult } from '../../conformance/runner';
import { PEERS, peerSkipReason, type PeerName } from './reachable';

function summary(r: CheckResult): string {
  const parts = [...r.failures, ...r.anomalies.map((a) => `${a.anomaly} x${a.count}: ${a.examples[0]?.note ?? ''}`)];
  return (r.reason ?? parts[0] ?? 'failed').slice(0, 400);
}

export async function runPeerSuite(t: Test, peer: PeerName): Promise<void> {
  const skip = await peerSkipReason(peer);
  if (skip) { t.plan(0, skip); return; }
  const seed = Number(process.env.MQLAB_SEED ?? 0) || (Date.now() % 1_000_000) + 1;
  t.comment(`${peer} suites against ${PEERS[peer].url}, seed ${seed} (rerun: mqlab conform --model ${peer} --adapter ${PEERS[peer].url} --seed ${seed})`);
  const run = await runConformance({ model: peer, adapter: resolveAdapter(peer, PEERS[peer].url), seed, long: false, threads: 0 });
  t.ok(run.results.length > 0, `${run.results.length} checks ran`);
  for (const r of run.results) {
    if (r.status === 'skip') {
      await t.test(r.name, { skip: r.reason ?? 'skipped by the runner' }, async () => undefined);
    } else {
      await t.test(r.name, async (st) => {
        st.equal(r.status, 'pass', r.status === 'pass' ? `${r.name} (${r.ops} ops, ${r.durationMs} ms)` : summary(r));
        if (r.status === 'fail' && r.historyFile) st.comment(`history: ${r.historyFile}`);
      });
    }
  }
}
