/**
 * Coverage-guided fuzzing (libFuzzer + AddressSanitizer + UBSan) of the storage core's C++ frame
 * decoder and recovery scanner, built straight from native/ sources without node:
 *   fuzz/frame-decoder.fuzz.cc  <- native/frame.h, native/crc32c.cc
 *   fuzz/recovery-scan.fuzz.cc  <- every native/*.cc but addon.cc and js-*.cc (log, flusher, segment,
 *                                  file-util, crc32c, store-error, index-file)
 * Seeds are real segments written by CommitLog, so mutations start from valid frames and CRCs.
 *
 *   npx tsx scripts/reliability/fuzz-native.ts --seconds 60      # per target
 *   npx tsx scripts/reliability/fuzz-native.ts --runs 200000
 * Exit status 1 when a target crashed (the reproducer is kept in fuzz/.out/), 2 when clang++ is missing.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CommitLog } from '../../core/log';

const ROOT = path.resolve(__dirname, '..', '..');
const OUT = path.join(ROOT, 'fuzz', '.out');
const FLAGS = ['-std=c++17', '-g', '-O1', '-fsanitize=fuzzer,address,undefined', '-fno-sanitize-recover=undefined', `-I${path.join(ROOT, 'native')}`, '-pthread'];

/** The storage engine's sources without the node binding (addon.cc and js-*.cc are the only ones that include node_api.h). */
function storeSources(): string[] {
  return fs.readdirSync(path.join(ROOT, 'native')).filter((f) => f.endsWith('.cc') && f !== 'addon.cc' && !f.startsWith('js-')).sort().map((f) => `native/${f}`);
}

export const FUZZ_TARGETS: Record<string, string[]> = {
  'frame-decoder': ['fuzz/frame-decoder.fuzz.cc', 'native/crc32c.cc'],
  'recovery-scan': ['fuzz/recovery-scan.fuzz.cc', ...storeSources()],
};

export interface FuzzResult {
  target: string;
  runs: number;
  seconds: number;
  execPerSec: number;
  coverage: number;
  crashed: boolean;
  exitCode: number | null;
  reproducers: string[];
  tail: string;
}

export function findClang(): string | null {
  const r = spawnSync('clang++', ['--version'], { encoding: 'utf8' });
  return r.status === 0 ? 'clang++' : null;
}

export function buildTarget(target: string): string {
  fs.mkdirSync(OUT, { recursive: true });
  const exe = path.join(OUT, target);
  const sources = FUZZ_TARGETS[target]!.map((s) => path.join(ROOT, s));
  // Sanitizer builds take a while on a loaded machine: reuse the binary when no source changed.
  const deps = [...sources, ...fs.readdirSync(path.join(ROOT, 'native')).filter((f) => f.endsWith('.h')).map((f) => path.join(ROOT, 'native', f))];
  if (fs.existsSync(exe) && deps.every((d) => fs.statSync(d).mtimeMs < fs.statSync(exe).mtimeMs)) return exe;
  const r = spawnSync('clang++', [...FLAGS, ...sources, '-o', `${exe}.tmp`], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`building ${target} failed:\n${r.stderr}`);
  fs.renameSync(`${exe}.tmp`, exe);
  return exe;
}

/**
 * Segment data areas (header stripped) of small real logs: a few records, then a roll; and two
 * 'chunked' appenders, whose segments end in padding frames.
 */
function seedSegments(): Buffer[] {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mqlab-fuzz-seed-'));
  const chunked = path.join(dir, 'chunked');
  try {
    const log = CommitLog.open(dir, { segmentBytes: 4096, maxRecordBytes: 1024 });
    for (let i = 0; i < 40; i++) log.append(Buffer.alloc(i * 5, i), 1_700_000_000_000 + i);
    log.close();
    const a = CommitLog.open(chunked, { segmentBytes: 4096, maxRecordBytes: 1024, appendMode: 'chunked' });
    const b = CommitLog.open(chunked, { appendMode: 'chunked' });
    for (let i = 0; i < 6; i++) (i % 2 ? b : a).append(Buffer.alloc(i * 7, i), 1_700_000_000_000 + i);
    a.close();
    b.close();
    const files = (d: string) => fs.readdirSync(d).filter((f) => f.endsWith('.log')).sort().map((f) => path.join(d, f));
    return [...files(dir), ...files(chunked)].map((f) => {
      const data = fs.readFileSync(f).subarray(64);
      let end = data.length;
      while (end > 0 && data[end - 1] === 0) end--;
      return Buffer.from(data.subarray(0, Math.min(data.length, (end + 16 + 7) & ~7)));
    });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export function writeSeeds(target: string, corpus: string): void {
  fs.mkdirSync(corpus, { recursive: true });
  const segs = seedSegments();
  segs.forEach((seg, i) => {
    if (target === 'frame-decoder') fs.writeFileSync(path.join(corpus, `seed-${i}`), seg);
    else {
      fs.writeFileSync(path.join(corpus, `seed-${i}-plain`), Buffer.concat([Buffer.from([0]), seg]));
      fs.writeFileSync(path.join(corpus, `seed-${i}-sealed`), Buffer.concat([Buffer.from([1]), seg]));
      fs.writeFileSync(path.join(corpus, `seed-${i}-ckpt`), Buffer.concat([Buffer.from([4 | 8]), seg]));
    }
  });
  if (target === 'recovery-scan' && segs.length >= 2) {
    const split = Buffer.alloc(2);
    split.writeUInt16LE(segs[0]!.length - 16);
    fs.writeFileSync(path.join(corpus, 'seed-two-segments'), Buffer.concat([Buffer.from([2 | 1]), split, segs[0]!.subarray(0, segs[0]!.length - 16), segs[1]!]));
  }
}

export function runTarget(target: string, opts: { seconds?: number; runs?: number }): FuzzResult {
  const exe = buildTarget(target);
  const corpus = path.join(ROOT, 'fuzz', `corpus-${target}`);
  writeSeeds(target, corpus);
  const args = ['-print_final_stats=1', `-artifact_prefix=${OUT}/${target}-`, '-max_len=8192', '-rss_limit_mb=1024'];
  if (opts.runs !== undefined) args.push(`-runs=${opts.runs}`);
  if (opts.seconds !== undefined) args.push(`-max_total_time=${opts.seconds}`);
  const before = new Set(fs.readdirSync(OUT));
  const t0 = Date.now();
  const r = spawnSync(exe, [...args, corpus], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, env: { ...process.env, ASAN_OPTIONS: 'detect_leaks=1:abort_on_error=0' } });
  const seconds = (Date.now() - t0) / 1000;
  const log = (r.stderr ?? '') + (r.stdout ?? '');
  const num = (re: RegExp) => Number(re.exec(log)?.[1] ?? NaN);
  const reproducers = fs.readdirSync(OUT).filter((f) => !before.has(f) && /-(crash|leak|timeout|oom)-/.test(f)).map((f) => path.join(OUT, f));
  const covs = [...log.matchAll(/cov: (\d+)/g)];
  return {
    target,
    runs: num(/stat::number_of_executed_units:\s*(\d+)/),
    seconds,
    execPerSec: num(/stat::average_exec_per_sec:\s*(\d+)/),
    coverage: covs.length ? Number(covs[covs.length - 1]![1]) : NaN,
    crashed: r.status !== 0 || reproducers.length > 0,
    exitCode: r.status,
    reproducers,
    tail: log.split('\n').filter((l) => /ERROR|SUMMARY|runtime error|==\d+==|Done|DONE/.test(l)).slice(-12).join('\n'),
  };
}

if (require.main === module) {
  const argv = process.argv.slice(2);
  const get = (flag: string) => {
    const i = argv.indexOf(flag);
    return i >= 0 ? Number(argv[i + 1]) : undefined;
  };
  const seconds = get('--seconds');
  const runs = get('--runs');
  if (!findClang()) {
    console.error('clang++ not found: install it (apt-get install -y clang) to run the libFuzzer targets');
    process.exit(2);
  }
  let failed = false;
  for (const target of Object.keys(FUZZ_TARGETS)) {
    const r = runTarget(target, seconds === undefined && runs === undefined ? { seconds: 60 } : { ...(seconds !== undefined ? { seconds } : {}), ...(runs !== undefined ? { runs } : {}) });
    console.log(`${target}: ${r.runs} runs in ${r.seconds.toFixed(0)} s (${r.execPerSec}/s), coverage ${r.coverage} edges, crashes ${r.crashed ? 1 : 0}${r.reproducers.length ? ` -> ${r.reproducers.join(', ')}` : ''}`);
    if (r.crashed) {
      failed = true;
      console.log(r.tail);
    }
  }
  process.exitCode = failed ? 1 : 0;
}
