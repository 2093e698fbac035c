/** JUnit XML for CI dashboards: one testsuite per run, one testcase per check. */
import type { RunResult } from '../runner';
import { renderCase } from '../checker/render';

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '');
}

export function junitXml(run: RunResult): string {
  const lines: string[] = ['<?xml version="1.0" encoding="UTF-8"?>'];
  const name = `mqlab conform ${run.model} (${run.adapter.spec})`;
  lines.push(`<testsuites name="${esc(name)}" tests="${run.results.length}" failures="${run.counts.fail}" skipped="${run.counts.skip}" time="${(run.durationMs / 1000).toFixed(3)}">`);
  lines.push(`  <testsuite name="${esc(name)}" tests="${run.results.length}" failures="${run.counts.fail}" skipped="${run.counts.skip}" time="${(run.durationMs / 1000).toFixed(3)}" timestamp="${run.startedAt}">`);
  lines.push(`    <properties><property name="seed" value="${run.seed}"/><property name="mode" value="${run.mode}"/><property name="adapter" value="${esc(run.adapter.name)}"/><property name="guarantee" value="${run.adapter.guarantee}"/></properties>`);
  for (const r of run.results) {
    const open = `    <testcase classname="${esc(`conform.${run.model}`)}" name="${esc(r.name)}" time="${(r.durationMs / 1000).toFixed(3)}"`;
    if (r.status === 'pass') {
      lines.push(`${open}/>`);
    } else if (r.status === 'skip') {
      lines.push(`${open}><skipped message="${esc(r.reason ?? '')}"/></testcase>`);
    } else {
      const detail = [
        ...r.anomalies.filter((a) => !a.allowed).flatMap((a) => [`${a.anomaly}: ${a.count} case(s)`, ...a.examples.map((c) => `  ${renderCase(c)}`)]),
        ...r.failures,
        ...(r.historyFile ? [`history: ${r.historyFile}`] : []),
        `seed: ${r.seed}`,
      ].join('\n');
      lines.push(`${open}><failure message="${esc(r.reason ?? 'failed')}">${esc(detail)}</failure></testcase>`);
    }
  }
  lines.push('  </testsuite>');
  lines.push('</testsuites>');
  return lines.join('\n') + '\n';
}
