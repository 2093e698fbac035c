import t from 'tap';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { toHtml } from '../../bench/report/html';
import { toMarkdown } from '../../bench/report/markdown';
import { RESULTS_SCHEMA_VERSION, type ResultsFile } from '../../bench/report/result';

const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'].find((p) => existsSync(p));

function sample(): ResultsFile {
  return {
    schema: RESULTS_SCHEMA_VERSION,
    createdAt: '2026-11-25T10:00:00.000Z',
    partial: false,
    machine: { hostname: 'h', platform: 'linux', arch: 'x64', cpus: 2, cpuModel: 'Test CPU', memBytes: 2 ** 34 },
    versions: { mqlab: '0.1.0', node: 'v20', v8: '11' },
    results: [
      { id: 'core.append.100B', opsPerSec: 1.2e7, bytesPerSec: 1.2e9, runs: 3, min: 1.1e7, max: 1.3e7 },
      { id: 'kafka.e2e.100B', opsPerSec: 1e5, bytesPerSec: 1e7, runs: 3, min: 9.9e4, max: 1e5, p50Us: 40, p99Us: 180, p999Us: 900, p9999Us: 2000, maxUs: 3000 },
      { id: 'peer.kafka.e2e.100B', opsPerSec: 9e4, bytesPerSec: 9e6, runs: 1, min: 9e4, max: 9e4, p50Us: 900, p99Us: 4000, p999Us: 9000 },
      { id: 'workload.noop-1-topic-1-partition-100b', opsPerSec: 5e7, bytesPerSec: 5e9, runs: 3, min: 4.8e7, max: 5.1e7, p50Us: 5, p99Us: 50, p999Us: 500, p9999Us: 900, maxUs: 1000, extra: { model: 'noop' } },
      { id: 'calibration.index', opsPerSec: 100, bytesPerSec: 0, runs: 4, min: 90, max: 110 },
      { id: 'weird.</script><b>id', opsPerSec: 1, bytesPerSec: 0, runs: 1, min: 1, max: 1 },
    ],
    series: {
      'workload.noop-1-topic-1-partition-100b': [1, 2, 3, 4].map((s) => ({ t: s, publishRate: 5e7 + s * 1e6, consumeRate: 5e7 - s * 1e6 })),
      'workload.kafka-1-topic-16-partitions-1kb': [1, 2, 3].map((s) => ({ t: s, publishRate: 1e6, consumeRate: 9e5 })),
    },
    notAvailable: [{ phase: 'peers', reason: 'bench/peers.ts not found (not built yet)' }],
  };
}

t.test('the report is one self-contained file', async (t) => {
  const html = toHtml(sample());
  t.notMatch(html, /<script[^>]+src=|<link[^>]+href=|https?:\/\/(?!www\.w3\.org\/2000\/svg)/, 'no external script, stylesheet or URL');
  t.notMatch(html, /<\/script><b>id/, 'data cannot close the script element');
  t.match(html, /peers: bench\/peers\.ts not found/);
  const md = toMarkdown(sample());
  t.match(md, /\| `kafka\.e2e\.100B` \| 100\.0 k \|/);
  t.match(md, /±8\.3% ok/, 'spread of core.append.100B within the ±10% target');
});

t.test('headless Chromium draws every chart', { skip: CHROMIUM ? false : 'chromium not installed (apt-get install -y chromium)' }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'mqlab-html-'));
  const profile = mkdtempSync(join(tmpdir(), 'mqlab-chromium-'));
  t.teardown(() => {
    rmSync(dir, { recursive: true, force: true });
    rmSync(profile, { recursive: true, force: true });
  });
  const file = join(dir, 'report.html');
  writeFileSync(file, toHtml(sample()));
  const args = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', `--user-data-dir=${profile}`, '--dump-dom', `file://${file}`];
  const dom = await new Promise<string>((resolve, reject) => {
    execFile(CHROMIUM!, args, { timeout: 60_000, maxBuffer: 16 * 2 ** 20 }, (err, stdout) => (err ? reject(err) : resolve(stdout)));
  });
  t.match(dom, /<body[^>]*data-charts-drawn="4"/, 'two throughput charts, the latency chart and the comparison chart');
  const drawn = [...dom.matchAll(/<figure[^>]*data-drawn="(\d+)"/g)].map((m) => Number(m[1]));
  t.same(drawn, [2, 2, 3, 5], 'marks per chart: 2 lines, 2 lines, 3 latency lines, 5 bars (calibration left out)');
  t.equal((dom.match(/<polyline/g) ?? []).length, 7, 'polylines in the DOM');
  t.equal((dom.match(/<rect/g) ?? []).length, 5, 'bars in the DOM');
  const order = [...dom.matchAll(/<rect[^>]*data-id="([^"]+)"/g)].map((m) => m[1]);
  t.equal(order.indexOf('peer.kafka.e2e.100B'), order.indexOf('kafka.e2e.100B') + 1, 'the real broker sits next to the engine');
});
