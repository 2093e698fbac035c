/**
 * Hostile-argument property fuzz of every public entry point (scripts/reliability/api-fuzz-child.ts),
 * in a child process so a segfault fails the test: the native binding functions called directly,
 * the CommitLog/IndexFile wrappers, close while waits are pending or a worker appends, and the
 * three engines. Every failure must be a typed MqlabError.
 */
import t from 'tap';
import * as path from 'node:path';
import { CORE_SECTIONS, ENGINE_SECTIONS, runApiFuzz } from '../../scripts/reliability/api-fuzz';

const RUNS = Number(process.env.MQLAB_FUZZ_RUNS ?? 40);
const SEED = Number(process.env.MQLAB_FUZZ_SEED ?? 20261125);

t.test('the runner calls a child that segfaults a crash, whatever it printed', async (t) => {
  const r = await runApiFuzz(1, 1, undefined, path.join(__dirname, '..', '..', 'scripts', 'reliability', 'crashing-child.ts'));
  t.equal(r.signal, 'SIGSEGV');
  t.not(r.exitCode, 0);
});

t.test('storage core: native binding and wrappers, hostile arguments, concurrent close', async (t) => {
  const r = await runApiFuzz(RUNS, SEED, CORE_SECTIONS);
  t.equal(r.signal, null, `no signal (stderr: ${r.stderr.slice(0, 500)})`);
  t.equal(r.exitCode, 0, 'the fuzz process ran to the end');
  t.ok(r.summary, 'it printed its summary');
  const s = r.summary!;
  t.same(s.sections, CORE_SECTIONS, 'every section ran');
  t.ok(s.calls > 1000, `many calls made (${s.calls})`);
  t.ok(s.typedErrors > 100 && s.returned > 100, `both typed errors (${s.typedErrors}) and successful calls (${s.returned})`);
  t.ok((s.codes['ERR_INVALID_ARG'] ?? 0) > 0 && (s.codes['ERR_CLOSED'] ?? 0) > 0, 'argument and use-after-close errors are typed');
  t.same(s.untyped, [], 'every failure is an MqlabError');
  t.equal(s.untypedCount, 0, 'not one untyped throw');
});


for (const engine of ENGINE_SECTIONS) {
  t.test(`${engine} engine: hostile arguments to its public API`, async (t) => {
    const r = await runApiFuzz(RUNS, SEED, [engine]);
    t.equal(r.signal, null, `no signal (stderr: ${r.stderr.slice(0, 500)})`);
    t.equal(r.exitCode, 0, 'the fuzz process ran to the end');
    const s = r.summary;
    t.ok(s && s.calls >= RUNS, 'calls were made');
    t.same(s?.untyped ?? ['no summary'], [], 'every failure is an MqlabError');
  });
}
