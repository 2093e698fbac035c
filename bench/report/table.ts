/** The plain-text summary table printed at the end of a run. */
import type { BenchResult } from './result';
import { fmtBytes, fmtRate, fmtSpread, fmtUs } from './format';

export function formatTable(results: readonly BenchResult[]): string {
  const head = ['id', 'ops/s', 'bytes/s', 'runs', 'spread', 'p50', 'p99', 'p99.9'];
  const rows = results.map((r) => [r.id, fmtRate(r.opsPerSec), fmtBytes(r.bytesPerSec), String(r.runs), fmtSpread(r), fmtUs(r.p50Us), fmtUs(r.p99Us), fmtUs(r.p999Us)]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}
