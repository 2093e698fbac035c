/** History recording and the JSON Lines file: round trip, merge order, and every way a file can be broken. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import t from 'tap';
import { parseHistory, readHistory, writeHistory } from '../../conformance/history/jsonl';
import { HistoryRecorder } from '../../conformance/history/recorder';

t.test('recorder orders events by time and indexes them; worker events merge in', async (t) => {
  const rec = new HistoryRecorder();
  const h = rec.invoke('p1', 'send', { messages: [{ id: 'm1', topic: 't' }] });
  const worker = new HistoryRecorder(rec.originNs);
  worker.observe('w1.c1', 'poll', { consumer: 'w1.c1', messages: [] });
  rec.ok(h, { messages: [{ id: 'm1' }] });
  rec.merge(worker.pending());
  const ops = rec.finish();
  t.same(ops.map((o) => o.index), [0, 1, 2, 3]);
  t.ok(ops.every((o, i) => i === 0 || ops[i - 1]!.time <= o.time), 'time order');
  t.same(ops.map((o) => `${o.process}:${o.type}`).sort(), ['p1:invoke', 'p1:ok', 'w1.c1:invoke', 'w1.c1:ok']);
});

t.test('recorder stops keeping events past its limit and says so', async (t) => {
  const rec = new HistoryRecorder(undefined, 3);
  for (let i = 0; i < 5; i++) rec.observe('p', 'x', i);
  t.equal(rec.finish().length, 3);
  t.equal(rec.overflowed, true);
});

t.test('write then read gives the same history', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mqlab-hist-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const rec = new HistoryRecorder();
  for (let i = 0; i < 100; i++) rec.observe(`p${i % 3}`, 'send', { messages: [{ id: `m${i}` }] });
  const ops = rec.finish();
  const file = path.join(dir, 'h.jsonl');
  writeHistory(file, ops, { seed: 5 });
  const back = readHistory(file);
  t.same(back.ops, ops);
  t.same(back.meta, { seed: 5 });
});

t.test('broken history files are rejected with the line number', async (t) => {
  const good = ['{"format":"mqlab-history","version":1,"meta":{}}', '{"index":0,"time":1,"process":"p","type":"invoke","f":"x","value":null}', '{"end":true,"ops":1}'].join('\n') + '\n';
  t.equal(parseHistory(good).ops.length, 1);
  const cases: [string, string, RegExp][] = [
    ['empty', '', /:1: empty file/],
    ['no trailing newline', good.slice(0, -1), /:3: truncated: the last line has no newline/],
    ['cut mid-line', good.slice(0, good.length - 15), /truncated: the last line has no newline/],
    ['no end line', good.split('\n').slice(0, 2).join('\n') + '\n', /:2: truncated: no end line/],
    ['corrupt json', good.replace('"type":"invoke"', '"type":"invoke'), /:2: corrupt: not valid JSON/],
    ['wrong index', good.replace('"index":0', '"index":7'), /:2: corrupt: expected op index 0, found 7/],
    ['bad op type', good.replace('"invoke"', '"maybe"'), /:2: corrupt: an op needs/],
    ['bad header', good.replace('mqlab-history', 'other'), /:1: not an mqlab-history file/],
    ['count mismatch', good.replace('"ops":1', '"ops":2'), /:3: truncated: end line says 2 operations, found 1/],
    ['data after end', good + '{"index":1}\n', /:4: corrupt: data after the end line/],
  ];
  for (const [what, text, message] of cases) {
    t.throws(() => parseHistory(text, 'h.jsonl'), { code: 'ERR_HISTORY', message }, what);
  }
  t.throws(() => readHistory('/nonexistent/h.jsonl'), { code: 'ERR_HISTORY', message: /cannot read history/ });
});
