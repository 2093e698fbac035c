/**
 * Anonymous memory while appending a lot: `npx tsx bench/micro/core-rss.ts [GiB=4] [--json FILE]`.
 * Appends GiB of 1 KiB records (one append call each) through 64 MiB segments, sampling RssAnon
 * and RssFile from /proc/self/status every segment. Mapped segment pages are file-backed (RssFile,
 * reclaimable page cache); the target is that RssAnon stays flat (< 64 MiB growth).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CommitLog } from '../../core/log';

function status(): { anon: number; file: number } {
  const s = fs.readFileSync('/proc/self/status', 'utf8');
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(s)?.[1] ?? NaN) * 1024;
  return { anon: kb('RssAnon'), file: kb('RssFile') };
}

export function measureAnonGrowth(gib: number, onSample?: (written: number, anon: number, file: number) => void) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mqlab-bench-rss-'));
  const log = CommitLog.open(dir);
  const payload = Buffer.alloc(1024, 7);
  const total = gib * 1024 ** 3;
  const step = 64 * 1024 * 1024;
  global.gc?.();
  const start = status();
  let maxAnon = start.anon;
  let maxFile = start.file;
  const t0 = performance.now();
  try {
    while (log.endPosition < total) {
      const stop = Math.min(total, log.endPosition + step);
      while (log.endPosition < stop) log.append(payload);
      const s = status();
      maxAnon = Math.max(maxAnon, s.anon);
      maxFile = Math.max(maxFile, s.file);
      onSample?.(log.endPosition, s.anon, s.file);
    }
  } finally {
    log.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const seconds = (performance.now() - t0) / 1000;
  return { bytes: total, seconds, startAnon: start.anon, maxAnon, growthAnon: maxAnon - start.anon, maxFile };
}

if (require.main === module) {
  const args = process.argv.slice(2);
  const gib = Number(args.find((a) => /^\d+(\.\d+)?$/.test(a)) ?? 4);
  const jsonAt = args.indexOf('--json');
  const MiB = (b: number) => `${(b / 1024 / 1024).toFixed(1)} MiB`;
  const r = measureAnonGrowth(gib, (w, anon, file) => process.stderr.write(`\r${MiB(w)} written, RssAnon ${MiB(anon)}, RssFile ${MiB(file)}   `));
  process.stderr.write('\n');
  process.stdout.write(`appended ${gib} GiB in ${r.seconds.toFixed(1)} s; RssAnon start ${MiB(r.startAnon)}, max ${MiB(r.maxAnon)}, ` +
    `growth ${MiB(r.growthAnon)} (target < 64 MiB); RssFile max ${MiB(r.maxFile)}\n`);
  if (jsonAt >= 0) fs.writeFileSync(args[jsonAt + 1]!, `${JSON.stringify(r, null, 2)}\n`);
}
