/**
 * The HTML report: one self-contained file (no server, no CDN). The results are embedded as
 * JSON and a small inline script draws the charts as SVG when the page loads:
 *   - throughput over time (publish and consume rate per second) for each workload;
 *   - latency percentiles (p50 … max, log scale) for every id that measured latency;
 *   - engine vs engine vs real broker: ops/s of every id on a log scale, coloured by family,
 *     a real broker's `peer.<model>.*` id next to the engine's `<model>.*` id.
 * Each chart's <figure> gets data-drawn="<marks drawn>", and <body> data-charts-drawn="<charts>",
 * which is what the headless-Chromium test checks.
 */
import type { ResultsFile } from './result';
import { toMarkdown } from './markdown';

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** JSON safe inside a <script> element. */
function scriptJson(v: unknown): string {
  return JSON.stringify(v).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

const STYLE = `
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222;max-width:1200px}
h1{font-size:22px}h2{font-size:17px;margin-top:28px}
table{border-collapse:collapse;font-size:12px}td,th{border:1px solid #ddd;padding:3px 6px;text-align:right}
td:first-child,th:first-child{text-align:left}
figure{margin:12px 0;display:inline-block;vertical-align:top}figcaption{font-size:12px;color:#555}
.grid{display:flex;flex-wrap:wrap;gap:8px}.partial{color:#b00;font-weight:bold}
svg text{font:10px system-ui,sans-serif;fill:#444}`;

/** Draws every chart from the embedded data; runs in the browser. */
const SCRIPT = String.raw`
(function () {
  var data = JSON.parse(document.getElementById('mqlab-data').textContent);
  var NS = 'http://www.w3.org/2000/svg';
  var COLORS = { core: '#6b7280', kafka: '#d97706', rabbitmq: '#dc2626', rocketmq: '#2563eb', peer: '#059669', noop: '#7c3aed', calibration: '#9ca3af', other: '#0891b2' };
  function el(name, attrs, parent) {
    var e = document.createElementNS(NS, name);
    for (var k in attrs) e.setAttribute(k, attrs[k]);
    if (parent) parent.appendChild(e);
    return e;
  }
  function text(parent, x, y, s, anchor) {
    var t = el('text', { x: x, y: y, 'text-anchor': anchor || 'start' }, parent);
    t.textContent = s;
    return t;
  }
  function fmt(x) {
    if (!(x > 0)) return '0';
    if (x >= 1e9) return (x / 1e9).toFixed(1) + 'G';
    if (x >= 1e6) return (x / 1e6).toFixed(1) + 'M';
    if (x >= 1e3) return (x / 1e3).toFixed(1) + 'k';
    return x >= 10 ? x.toFixed(0) : x.toFixed(1);
  }
  function family(r) {
    var p = r.id.split('.');
    if (p[0] === 'workload') return (r.extra && r.extra.model) || (p[1] || '').split('-')[0] || 'other';
    return COLORS[p[0]] ? p[0] : 'other';
  }
  function figure(container, caption, w, h) {
    var f = document.createElement('figure');
    var svg = el('svg', { width: w, height: h, viewBox: '0 0 ' + w + ' ' + h, role: 'img' });
    f.appendChild(svg);
    var c = document.createElement('figcaption');
    c.textContent = caption;
    f.appendChild(c);
    container.appendChild(f);
    return { fig: f, svg: svg };
  }
  var drawn = 0;
  function done(f, marks) {
    f.fig.setAttribute('data-drawn', String(marks));
    if (marks > 0) drawn++;
  }

  // 1. Throughput over time.
  var tp = document.getElementById('throughput');
  var ids = Object.keys(data.series || {});
  ids.forEach(function (id) {
    var pts = data.series[id];
    if (!pts || pts.length === 0) return;
    var W = 360, H = 180, L = 48, B = 24, T = 10, R = 10;
    var f = figure(tp, id + ' (msgs/s per second; orange publish, blue consume)', W, H);
    var maxT = Math.max.apply(null, pts.map(function (p) { return p.t; })) || 1;
    var maxY = Math.max.apply(null, pts.map(function (p) { return Math.max(p.publishRate, p.consumeRate); })) || 1;
    el('line', { x1: L, y1: H - B, x2: W - R, y2: H - B, stroke: '#999' }, f.svg);
    el('line', { x1: L, y1: T, x2: L, y2: H - B, stroke: '#999' }, f.svg);
    text(f.svg, L - 4, T + 8, fmt(maxY), 'end');
    text(f.svg, L - 4, H - B, '0', 'end');
    text(f.svg, W - R, H - 6, maxT.toFixed(0) + ' s', 'end');
    var marks = 0;
    [['publishRate', '#d97706'], ['consumeRate', '#2563eb']].forEach(function (s) {
      var d = pts.map(function (p) {
        return (L + (p.t / maxT) * (W - L - R)).toFixed(1) + ',' + (H - B - (p[s[0]] / maxY) * (H - B - T)).toFixed(1);
      }).join(' ');
      el('polyline', { points: d, fill: 'none', stroke: s[1], 'stroke-width': 1.5 }, f.svg);
      marks++;
    });
    done(f, marks);
  });
  if (ids.length === 0) tp.appendChild(document.createTextNode('No workload ran in this report.'));

  // 2. Latency percentiles (log scale).
  var lat = data.results.filter(function (r) { return r.p50Us > 0; });
  var lp = document.getElementById('latency');
  if (lat.length > 0) {
    var keys = ['p50Us', 'p99Us', 'p999Us', 'p9999Us', 'maxUs'];
    var labels = ['p50', 'p99', 'p99.9', 'p99.99', 'max'];
    var W = 760, H = 320, L = 60, B = 30, T = 10, R = 260;
    var f = figure(lp, 'End-to-end latency by percentile (µs, log scale)', W, H);
    var vals = [];
    lat.forEach(function (r) { keys.forEach(function (k) { if (r[k] > 0) vals.push(r[k]); }); });
    var lo = Math.floor(Math.log10(Math.min.apply(null, vals))), hi = Math.ceil(Math.log10(Math.max.apply(null, vals)));
    if (hi === lo) hi = lo + 1;
    function y(v) { return H - B - ((Math.log10(v) - lo) / (hi - lo)) * (H - B - T); }
    for (var e = lo; e <= hi; e++) {
      el('line', { x1: L, y1: y(Math.pow(10, e)), x2: W - R, y2: y(Math.pow(10, e)), stroke: '#eee' }, f.svg);
      text(f.svg, L - 4, y(Math.pow(10, e)) + 3, fmt(Math.pow(10, e)), 'end');
    }
    labels.forEach(function (lb, i) { text(f.svg, L + (i / (labels.length - 1)) * (W - L - R), H - 10, lb, 'middle'); });
    var marks = 0;
    lat.forEach(function (r, j) {
      var color = COLORS[family(r)] || COLORS.other;
      var pts = [];
      keys.forEach(function (k, i) { if (r[k] > 0) pts.push((L + (i / (keys.length - 1)) * (W - L - R)).toFixed(1) + ',' + y(r[k]).toFixed(1)); });
      el('polyline', { points: pts.join(' '), fill: 'none', stroke: color, 'stroke-width': 1.5, 'data-id': r.id }, f.svg);
      text(f.svg, W - R + 8, T + 10 + j * 12, r.id, 'start').setAttribute('fill', color);
      marks++;
    });
    done(f, marks);
  } else {
    lp.appendChild(document.createTextNode('No benchmark in this report measured latency.'));
  }

  // 3. Every id's ops/s: engine vs engine vs real broker (log scale bars).
  var cp = document.getElementById('compare');
  // Calibration ids are in other units; a real broker's id sorts next to the engine's same id.
  var key = function (r) { return r.id.replace(/^peer\./, '') + (r.id.indexOf('peer.') === 0 ? '~' : ''); };
  var rows = data.results.filter(function (r) { return r.opsPerSec > 0 && r.id.indexOf('calibration.') !== 0; })
    .sort(function (a, b) { return key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0; });
  if (rows.length > 0) {
    var W = 900, BAR = 14, L = 330, R = 80, T = 10;
    var H = T + rows.length * (BAR + 4) + 24;
    var f = figure(cp, 'Throughput of every id (ops/s, log scale; colour = family: core, kafka, rabbitmq, rocketmq, peer, noop)', W, H);
    var mx = Math.max.apply(null, rows.map(function (r) { return r.opsPerSec; }));
    var mn = Math.min.apply(null, rows.map(function (r) { return r.opsPerSec; }));
    var lo2 = Math.floor(Math.log10(Math.max(mn, 1e-3))), hi2 = Math.ceil(Math.log10(mx));
    if (hi2 === lo2) hi2 = lo2 + 1;
    function x(v) { return L + ((Math.log10(v) - lo2) / (hi2 - lo2)) * (W - L - R); }
    var marks = 0;
    rows.forEach(function (r, i) {
      var yy = T + i * (BAR + 4);
      text(f.svg, L - 6, yy + BAR - 3, r.id, 'end');
      el('rect', { x: L, y: yy, width: Math.max(1, x(r.opsPerSec) - L).toFixed(1), height: BAR, fill: COLORS[family(r)] || COLORS.other, 'data-id': r.id }, f.svg);
      text(f.svg, x(r.opsPerSec) + 4, yy + BAR - 3, fmt(r.opsPerSec), 'start');
      marks++;
    });
    for (var e2 = lo2; e2 <= hi2; e2++) text(f.svg, x(Math.pow(10, e2)), H - 6, fmt(Math.pow(10, e2)), 'middle');
    done(f, marks);
  }
  document.body.setAttribute('data-charts-drawn', String(drawn));
})();
`;

export function toHtml(file: ResultsFile): string {
  const title = `mqlab benchmark ${file.createdAt}${file.partial ? ' (partial)' : ''}`;
  const md = toMarkdown(file);
  // The summary table, from the Markdown rows, so the three outputs never disagree.
  const tableRows = md
    .split('\n')
    .filter((l) => l.startsWith('| '))
    .map((l, i) => {
      const cells = l.slice(2, -2).split(' | ').map((c) => escapeHtml(c.replace(/`/g, '')));
      const tag = i === 0 ? 'th' : 'td';
      return `<tr>${cells.map((c) => `<${tag}>${c}</${tag}>`).join('')}</tr>`;
    })
    .join('\n');
  const m = file.machine;
  const na = (file.notAvailable ?? []).map((n) => `<li>${escapeHtml(n.phase)}: ${escapeHtml(n.reason)}</li>`).join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title><style>${STYLE}</style></head>
<body>
<h1>${escapeHtml(title)}</h1>
${file.partial ? '<p class="partial">Interrupted run: these figures cover only what was measured before Ctrl-C.</p>' : ''}
<p>${escapeHtml(`${m.cpus} x ${m.cpuModel}, ${(m.memBytes / 2 ** 30).toFixed(1)} GiB, ${m.platform}/${m.arch}; mqlab ${file.versions.mqlab}, node ${file.versions.node}`)}</p>
<h2>Throughput over time</h2><div id="throughput" class="grid"></div>
<h2>Latency percentiles</h2><div id="latency"></div>
<h2>Engines and real brokers</h2><div id="compare"></div>
<h2>Summary</h2><table>${tableRows}</table>
${na ? `<h2>Not available</h2><ul>${na}</ul>` : ''}
<script type="application/json" id="mqlab-data">${scriptJson({ results: file.results, series: file.series ?? {} })}</script>
<script>${SCRIPT}</script>
</body></html>
`;
}
