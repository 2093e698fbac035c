/** TAP 14 output for a conformance run, streamed one check at a time. */
import type { AdapterInfo } from '../adapters/common';
import type { CheckResult, RunResult } from '../runner';
import { renderCase } from '../checker/render';

function yamlString(s: string): string {
  return JSON.stringify(s);
}

export function tapHeader(lines: readonly string[]): string {
  return ['TAP version 14', ...lines.map((l) => `# ${l}`)].join('\n') + '\n';
}

export function tapPlan(total: number, info: AdapterInfo): string {
  return `# adapter: ${info.name} (claims ${info.guarantee})\n# capabilities: ${info.capabilities.join(', ') || '(none)'}\n1..${total}\n`;
}

export function tapResult(r: CheckResult, n: number): string {
  const out: string[] = [];
  if (r.status === 'skip') {
    out.push(`ok ${n} - ${r.name} # SKIP ${r.reason ?? ''}`);
    return out.join('\n') + '\n';
  }
  out.push(`${r.status === 'pass' ? 'ok' : 'not ok'} ${n} - ${r.name} # time=${r.durationMs}ms`);
  for (const l of r.logs) out.push(`    # ${l}`);
  if (r.status === 'fail') {
    out.push('  ---');
    out.push(`  description: ${yamlString(r.description)}`);
    out.push(`  seed: ${r.seed}`);
    out.push(`  ops: ${r.ops}`);
    const bad = r.anomalies.filter((a) => !a.allowed);
    if (bad.length > 0) {
      out.push('  anomalies:');
      for (const a of bad) {
        out.push(`    ${a.anomaly}:`);
        out.push(`      count: ${a.count}`);
        out.push('      examples:');
        for (const c of a.examples) out.push(`        - ${yamlString(renderCase(c))}`);
      }
    }
    if (r.failures.length > 0) {
      out.push('  failures:');
      for (const f of r.failures.slice(0, 10)) out.push(`    - ${yamlString(f)}`);
    }
    if (r.historyFile) out.push(`  history: ${yamlString(r.historyFile)}`);
    out.push('  ...');
  }
  return out.join('\n') + '\n';
}

export function tapFooter(run: RunResult): string {
  return `# pass ${run.counts.pass}, fail ${run.counts.fail}, skip ${run.counts.skip} (seed ${run.seed}, ${run.durationMs} ms)\n`;
}
