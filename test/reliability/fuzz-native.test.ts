/**
 * A few seconds of libFuzzer (with AddressSanitizer and UBSan) on the C++ frame decoder and the
 * recovery scanner, built from native/ sources without node (scripts/reliability/fuzz-native.ts
 * runs the long campaign). Skips with a reason when clang++ is not installed.
 */
import t from 'tap';
import { findClang, FUZZ_TARGETS, runTarget } from '../../scripts/reliability/fuzz-native';

const clang = findClang();
const SECONDS = Number(process.env.MQLAB_LIBFUZZER_SECONDS ?? 3);

for (const target of Object.keys(FUZZ_TARGETS)) {
  t.test(`libFuzzer: ${target}`, { skip: clang ? false : 'clang++ is not installed (apt-get install -y clang)' }, (t) => {
    const r = runTarget(target, { seconds: SECONDS });
    t.ok(r.runs > 0, `the fuzzer ran (${r.runs} inputs, coverage ${r.coverage} edges)`);
    t.equal(r.crashed, false, `no crash, sanitizer report or leak${r.crashed ? `:\n${r.tail}\nreproducers: ${r.reproducers.join(', ')}` : ''}`);
    t.end();
  });
}
