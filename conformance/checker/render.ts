/** Cases as text, last: one line per case, times in ms since the run started. */
import type { AnomalyCase } from './anomalies';
import type { Verdict } from './verdict';

export function renderCase(c: AnomalyCase): string {
  const parts = [`${c.anomaly}${c.kind ? ` (${c.kind})` : ''}: ${c.note}`, `ids=${c.ids.slice(0, 5).join(',')}${c.ids.length > 5 ? ',...' : ''}`];
  if (c.target) parts.push(`target=${c.target}`);
  if (c.stream) parts.push(`stream=${c.stream}`);
  if (c.offsets) parts.push(`offsets=${c.offsets.join(',')}`);
  if (c.consumers) parts.push(`consumers=${[...new Set(c.consumers)].join(',')}`);
  parts.push(`ops=${c.ops.join(',')}`);
  parts.push(`t_ms=${c.times.map((t) => (t / 1e6).toFixed(3)).join(',')}`);
  return parts.join(' ');
}

export function renderVerdict(v: Verdict): string[] {
  const lines: string[] = [];
  for (const s of v.summaries) {
    lines.push(`${s.anomaly}: ${s.count} case(s)${s.allowed ? ' (allowed)' : ''}`);
    for (const c of s.examples) lines.push(`  ${renderCase(c)}`);
  }
  return lines;
}
