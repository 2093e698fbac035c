/** The Markdown summary written beside each results JSON. */
import type { ResultsFile } from './result';
import { SPREAD_TARGET, fmtBytes, fmtRate, fmtUs, spreadOf } from './format';

export function toMarkdown(file: ResultsFile): string {
  const m = file.machine;
  const out: string[] = [];
  out.push(`# mqlab benchmark results${file.partial ? ' (PARTIAL: interrupted)' : ''}`, '');
  out.push(`- created: ${file.createdAt}`);
  out.push(`- machine: ${m.cpus} x ${m.cpuModel}, ${(m.memBytes / 2 ** 30).toFixed(1)} GiB, ${m.platform}/${m.arch} (${m.hostname})`);
  out.push(`- versions: mqlab ${file.versions.mqlab}, node ${file.versions.node}, v8 ${file.versions.v8}`);
  if (file.run) out.push(`- run: \`npm run bench -- ${file.run.args.join(' ')}\``, `- calibration: ${file.run.calibration}`);
  out.push('');
  out.push('| id | ops/s | bytes/s | runs | spread (target ±10%) | p50 | p99 | p99.9 | p99.99 | max |');
  out.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const r of file.results) {
    const s = spreadOf(r);
    const spread = r.runs < 2 ? 'n/a (1 run)' : Number.isFinite(s) ? `±${(s * 100).toFixed(1)}% ${s <= SPREAD_TARGET ? 'ok' : 'over'}` : '-';
    out.push(`| \`${r.id}\` | ${fmtRate(r.opsPerSec)} | ${fmtBytes(r.bytesPerSec)} | ${r.runs} | ${spread} | ${fmtUs(r.p50Us)} | ${fmtUs(r.p99Us)} | ${fmtUs(r.p999Us)} | ${fmtUs(r.p9999Us)} | ${fmtUs(r.maxUs)} |`);
  }
  if (file.notAvailable && file.notAvailable.length > 0) {
    out.push('', '## Not available', '');
    for (const n of file.notAvailable) out.push(`- ${n.phase}: ${n.reason}`);
  }
  out.push('', 'Spread = largest deviation of a run from the median of the runs. Figures taken on a shared machine; compare them as ratios to the calibration ids measured in the same run.');
  return `${out.join('\n')}\n`;
}
