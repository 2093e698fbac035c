/**
 * One test per anomaly: a tiny hand-written history and the exact case the checker must report
 * (anomaly, kind, ids, target, op indexes), plus the near-miss that must not be reported.
 */
import t from 'tap';
import type { AnomalyCase, AnomalyName } from '../../conformance/checker/anomalies';
import { findAnomalies } from '../../conformance/checker/check-history';
import { judge } from '../../conformance/checker/verdict';
import { HistoryBuilder } from './history-builder';

function cases(h: HistoryBuilder, only?: AnomalyName) {
  return findAnomalies(h.ops)
    .filter((c) => only === undefined || c.anomaly === only)
    .map((c: AnomalyCase) => {
      const out: Record<string, unknown> = { anomaly: c.anomaly, ids: c.ids, ops: c.ops };
      if (c.kind !== undefined) out.kind = c.kind;
      if (c.target !== undefined) out.target = c.target;
      if (c.offsets !== undefined) out.offsets = c.offsets;
      return out;
    });
}

t.test('lost: acked send never delivered to a drained target', async (t) => {
  const h = new HistoryBuilder();
  h.subscribe('c1', 'g', 'orders');
  const [inv, ok] = h.send('p1', 'm1', 'orders', { stream: 'orders/0', offset: 0 });
  h.send('p1', 'm2', 'orders', { stream: 'orders/0', offset: 1 });
  h.poll('c1', [{ id: 'm2', stream: 'orders/0', offset: 1 }]);
  const drain = h.drain(['g']);
  t.same(cases(h), [{ anomaly: 'lost', ids: ['m1'], ops: [inv, ok, drain], target: 'g', offsets: [0] }]);

  const unknown = new HistoryBuilder();
  unknown.subscribe('c1', 'g', 'orders');
  unknown.send('p1', 'm1', 'orders', {}, {}, 'info');
  unknown.drain(['g']);
  t.same(cases(unknown), [], 'a send of unknown outcome may be missing');

  const undrained = new HistoryBuilder();
  undrained.subscribe('c1', 'g', 'orders');
  undrained.send('p1', 'm1', 'orders');
  t.same(cases(undrained), [], 'a target never drained is not judged');

  const fireAndForget = new HistoryBuilder();
  fireAndForget.subscribe('c1', 'g', 'orders');
  fireAndForget.send('p1', 'm1', 'orders', {}, { mayLose: true });
  fireAndForget.drain(['g']);
  t.same(cases(fireAndForget), [], 'acks=0 may lose');
});

t.test('duplicate: redelivered with no failure between, or after an ack', async (t) => {
  const h = new HistoryBuilder();
  h.subscribe('c1', 'q', 'q');
  const [inv] = h.send('p1', 'm1', 'q');
  const d1 = h.poll('c1', [{ id: 'm1', stream: 'q' }]);
  const d2 = h.poll('c1', [{ id: 'm1', stream: 'q' }]);
  t.same(cases(h), [{ anomaly: 'duplicate', kind: 'no-failure-between', ids: ['m1'], ops: [inv, d1, d2], target: 'q' }]);

  const acked = new HistoryBuilder();
  acked.subscribe('c1', 'q', 'q');
  const [inv2] = acked.send('p1', 'm1', 'q');
  const e1 = acked.poll('c1', [{ id: 'm1', stream: 'q' }]);
  const a = acked.ack('c1', ['m1']);
  const e2 = acked.poll('c1', [{ id: 'm1', stream: 'q' }]);
  t.same(cases(acked), [{ anomaly: 'duplicate', kind: 'after-ack', ids: ['m1'], ops: [inv2, e1, a, e2], target: 'q' }]);

  const justified = new HistoryBuilder();
  justified.subscribe('c1', 'q', 'q');
  justified.send('p1', 'm1', 'q');
  justified.poll('c1', [{ id: 'm1', stream: 'q' }]);
  justified.crash('c1');
  justified.subscribe('c2', 'q', 'q');
  justified.poll('c2', [{ id: 'm1', stream: 'q', redelivered: true }]);
  t.same(cases(justified), [], 'a redelivery after the holder crashed is not a duplicate');

  const nacked = new HistoryBuilder();
  nacked.subscribe('c1', 'q', 'q');
  nacked.send('p1', 'm1', 'q');
  nacked.poll('c1', [{ id: 'm1', stream: 'q' }]);
  nacked.nack('c1', ['m1']);
  nacked.poll('c1', [{ id: 'm1', stream: 'q', redelivered: true }]);
  t.same(cases(nacked), [], 'a redelivery after nack-requeue is not a duplicate');
});

t.test('duplicate after commit: a committed record comes back without a seek', async (t) => {
  const h = new HistoryBuilder();
  h.subscribe('a', 'g', 'log', { ack: 'offset' });
  const [inv] = h.send('p1', 'm1', 'log', { stream: 'log/0', offset: 0 });
  const d1 = h.poll('a', [{ id: 'm1', stream: 'log/0', offset: 0 }]);
  const c = h.commit('a', 'g', [{ stream: 'log/0', offset: 1 }]);
  h.crash('a');
  h.subscribe('b', 'g', 'log', { ack: 'offset' });
  const d2 = h.poll('b', [{ id: 'm1', stream: 'log/0', offset: 0 }]);
  t.same(cases(h, 'duplicate'), [{ anomaly: 'duplicate', kind: 'after-commit', ids: ['m1'], ops: [inv, d1, c, d2], target: 'g', offsets: [0, 0] }]);

  const sought = new HistoryBuilder();
  sought.subscribe('a', 'g', 'log', { ack: 'offset' });
  sought.send('p1', 'm1', 'log', { stream: 'log/0', offset: 0 });
  sought.poll('a', [{ id: 'm1', stream: 'log/0', offset: 0 }]);
  sought.commit('a', 'g', [{ stream: 'log/0', offset: 1 }]);
  sought.seek('a', 'g', 'log/0', 0);
  sought.poll('a', [{ id: 'm1', stream: 'log/0', offset: 0 }]);
  t.same(cases(sought), [], 'a seek back explains the replay');
});

t.test('rebalance-duplicate: acked, a member joined, delivered again in the group', async (t) => {
  const h = new HistoryBuilder();
  h.subscribe('c1', 'g', 't');
  const [inv] = h.send('p1', 'm1', 't');
  const d1 = h.poll('c1', [{ id: 'm1', stream: 't/0' }]);
  const join = h.subscribe('c2', 'g', 't');
  const a = h.ack('c1', ['m1']);
  const d2 = h.poll('c2', [{ id: 'm1', stream: 't/0' }]);
  const found = findAnomalies(h.ops);
  t.same(cases(h), [{ anomaly: 'rebalance-duplicate', kind: 'after-ack', ids: ['m1'], ops: [inv, d1, a, join, d2], target: 'g' }]);
  t.equal(judge(found, { guarantee: 'at-least-once', allow: ['rebalance-duplicate'] }).valid, true, 'a check may allow it for at-least-once');
  t.same(judge(found, { guarantee: 'exactly-once', allow: ['rebalance-duplicate'] }).failures, ['rebalance-duplicate'], 'never for exactly-once');
  t.same(judge(found, { guarantee: 'at-least-once' }).failures, ['rebalance-duplicate'], 'not without the check allowing it');

  // The same repeat with the join before the first delivery is no rebalance.
  const early = new HistoryBuilder();
  early.subscribe('c1', 'g', 't');
  early.subscribe('c2', 'g', 't');
  early.send('p1', 'm1', 't');
  early.poll('c1', [{ id: 'm1', stream: 't/0' }]);
  early.ack('c1', ['m1']);
  early.poll('c2', [{ id: 'm1', stream: 't/0' }]);
  t.same(cases(early).map((c) => c.anomaly), ['cluster-double-delivery'], 'no membership change between: still a double delivery');
});

t.test('cluster-double-delivery: two members got one message with no failure between', async (t) => {
  const h = new HistoryBuilder();
  h.subscribe('c1', 'g', 't');
  h.subscribe('c2', 'g', 't');
  const [inv] = h.send('p1', 'm1', 't');
  const d1 = h.poll('c1', [{ id: 'm1', stream: 't/0' }]);
  const d2 = h.poll('c2', [{ id: 'm1', stream: 't/0' }]);
  t.same(cases(h), [{ anomaly: 'cluster-double-delivery', kind: 'no-failure-between', ids: ['m1'], ops: [inv, d1, d2], target: 'g' }]);

  const acked = new HistoryBuilder();
  acked.subscribe('c1', 'g', 't');
  acked.subscribe('c2', 'g', 't');
  const [inv2] = acked.send('p1', 'm1', 't');
  const e1 = acked.poll('c1', [{ id: 'm1', stream: 't/0' }]);
  const a = acked.ack('c1', ['m1']);
  const e2 = acked.poll('c2', [{ id: 'm1', stream: 't/0' }]);
  t.same(cases(acked), [{ anomaly: 'cluster-double-delivery', kind: 'after-ack', ids: ['m1'], ops: [inv2, e1, a, e2], target: 'g' }], 'even after the first member acked it');

  const broadcast = new HistoryBuilder();
  broadcast.subscribe('c1', 'g', 't', { mode: 'broadcast' });
  broadcast.subscribe('c2', 'g', 't', { mode: 'broadcast' });
  broadcast.send('p1', 'm1', 't');
  broadcast.poll('c1', [{ id: 'm1', stream: 't/0' }]);
  broadcast.poll('c2', [{ id: 'm1', stream: 't/0' }]);
  t.same(cases(broadcast), [], 'broadcast members each get it');
});

t.test('reorder: sent m1 before m2, consumer got m2 first', async (t) => {
  const h = new HistoryBuilder();
  h.subscribe('c1', 'q', 'q');
  const [i1, o1] = h.send('p1', 'm1', 'q');
  const [i2] = h.send('p2', 'm2', 'q');
  const d2 = h.poll('c1', [{ id: 'm2', stream: 'q' }]);
  const d1 = h.poll('c1', [{ id: 'm1', stream: 'q' }]);
  t.same(cases(h), [{ anomaly: 'reorder', ids: ['m1', 'm2'], ops: [i1, o1, i2, d2, d1], target: 'q' }]);

  const concurrent = new HistoryBuilder();
  concurrent.subscribe('c1', 'q', 'q');
  concurrent.add('p1', 'invoke', 'send', { messages: [{ id: 'm1', topic: 'q' }] });
  concurrent.add('p2', 'invoke', 'send', { messages: [{ id: 'm2', topic: 'q' }] });
  concurrent.add('p1', 'ok', 'send', { messages: [{ id: 'm1' }] });
  concurrent.add('p2', 'ok', 'send', { messages: [{ id: 'm2' }] });
  concurrent.poll('c1', [{ id: 'm2', stream: 'q' }, { id: 'm1', stream: 'q' }]);
  t.same(cases(concurrent), [], 'concurrent sends have no order');

  // Without confirms a resolved publish is only written to a socket: across publishers it orders nothing.
  const unconfirmed = new HistoryBuilder();
  unconfirmed.subscribe('c1', 'q', 'q');
  unconfirmed.add('p1', 'invoke', 'send', { messages: [{ id: 'm1', topic: 'q' }] });
  unconfirmed.add('p1', 'ok', 'send', { messages: [{ id: 'm1', unconfirmed: true }] });
  unconfirmed.add('p2', 'invoke', 'send', { messages: [{ id: 'm2', topic: 'q' }] });
  unconfirmed.add('p2', 'ok', 'send', { messages: [{ id: 'm2', unconfirmed: true }] });
  unconfirmed.poll('c1', [{ id: 'm2', stream: 'q' }, { id: 'm1', stream: 'q' }]);
  t.same(cases(unconfirmed), [], 'unconfirmed sends of two publishers have no order');

  // One publisher's unconfirmed sends stay ordered, even when another publisher's message sits between.
  const own = new HistoryBuilder();
  own.subscribe('c1', 'q', 'q');
  const u = { unconfirmed: true };
  const [j1, k1] = own.send('p1', 'm1', 'q', u);
  const [j2] = own.send('p1', 'm2', 'q', u);
  own.send('p2', 'm3', 'q', u);
  const e2 = own.poll('c1', [{ id: 'm2', stream: 'q' }]);
  own.poll('c1', [{ id: 'm3', stream: 'q' }]);
  const e1 = own.poll('c1', [{ id: 'm1', stream: 'q' }]);
  t.same(cases(own), [{ anomaly: 'reorder', ids: ['m1', 'm2'], ops: [j1, k1, j2, e2, e1], target: 'q' }], 'same-publisher reorder found across another publisher');

  // A confirmed send orders the sends other publishers invoke after it.
  const confirmed = new HistoryBuilder();
  confirmed.subscribe('c1', 'q', 'q');
  const [c1, c1done] = confirmed.send('p1', 'm1', 'q');
  const [c2] = confirmed.send('p2', 'm2', 'q', u);
  const f2 = confirmed.poll('c1', [{ id: 'm2', stream: 'q' }]);
  const f1 = confirmed.poll('c1', [{ id: 'm1', stream: 'q' }]);
  t.same(cases(confirmed), [{ anomaly: 'reorder', ids: ['m1', 'm2'], ops: [c1, c1done, c2, f2, f1], target: 'q' }], 'confirmed-before-invoked order holds across publishers');
});

t.test('poll-skip: a gap between polls, and a resume past the commit', async (t) => {
  const h = new HistoryBuilder();
  h.subscribe('c1', 'g', 'log', { ack: 'offset' });
  h.send('p1', 'm0', 'log', { stream: 'log/0', offset: 0 });
  h.send('p1', 'm1', 'log', { stream: 'log/0', offset: 1 });
  h.send('p1', 'm2', 'log', { stream: 'log/0', offset: 2 });
  const a = h.poll('c1', [{ id: 'm0', stream: 'log/0', offset: 0 }]);
  const b = h.poll('c1', [{ id: 'm2', stream: 'log/0', offset: 2 }]);
  t.same(cases(h, 'poll-skip'), [{ anomaly: 'poll-skip', kind: 'gap', ids: ['m1'], ops: [a, b], target: 'g', offsets: [0, 1, 2] }]);

  const resume = new HistoryBuilder();
  resume.subscribe('a', 'g', 'log', { ack: 'offset' });
  resume.send('p1', 'm0', 'log', { stream: 'log/0', offset: 0 });
  resume.send('p1', 'm1', 'log', { stream: 'log/0', offset: 1 });
  resume.send('p1', 'm2', 'log', { stream: 'log/0', offset: 2 });
  resume.poll('a', [{ id: 'm0', stream: 'log/0', offset: 0 }]);
  const c = resume.commit('a', 'g', [{ stream: 'log/0', offset: 1 }]);
  resume.crash('a');
  resume.subscribe('b', 'g', 'log', { ack: 'offset' });
  const d = resume.poll('b', [{ id: 'm2', stream: 'log/0', offset: 2 }]);
  t.same(cases(resume, 'poll-skip'), [{ anomaly: 'poll-skip', kind: 'resume', ids: ['m1'], ops: [c, d], target: 'g', offsets: [1, 1, 2] }]);

  const filtered = new HistoryBuilder();
  filtered.subscribe('c1', 'g', 't', { tags: ['A'] });
  filtered.send('p1', 'm0', 't', { stream: 't/b/0', offset: 0 }, { tags: 'A' });
  filtered.send('p1', 'm1', 't', { stream: 't/b/0', offset: 1 }, { tags: 'B' });
  filtered.send('p1', 'm2', 't', { stream: 't/b/0', offset: 2 }, { tags: 'A' });
  filtered.poll('c1', [{ id: 'm0', stream: 't/b/0', offset: 0 }]);
  filtered.poll('c1', [{ id: 'm2', stream: 't/b/0', offset: 2 }]);
  t.same(cases(filtered), [], 'offsets skipped by the tag filter are not a poll-skip');
});

t.test('non-monotonic offset: went back without seek, or one offset holds two messages', async (t) => {
  const h = new HistoryBuilder();
  h.subscribe('c1', 'g', 'log', { ack: 'offset' });
  h.send('p1', 'm0', 'log', { stream: 'log/0', offset: 0 });
  h.send('p1', 'm1', 'log', { stream: 'log/0', offset: 1 });
  const a = h.poll('c1', [{ id: 'm1', stream: 'log/0', offset: 1 }]);
  const b = h.poll('c1', [{ id: 'm0', stream: 'log/0', offset: 0 }]);
  t.same(cases(h, 'non-monotonic-offset'), [{ anomaly: 'non-monotonic-offset', kind: 'went-back', ids: ['m1', 'm0'], ops: [a, b], target: 'g', offsets: [1, 0] }]);

  const reused = new HistoryBuilder();
  const [i0] = reused.send('p1', 'm0', 'log', { stream: 'log/0', offset: 5 });
  const [i1] = reused.send('p2', 'm1', 'log', { stream: 'log/0', offset: 5 });
  t.same(cases(reused), [{ anomaly: 'non-monotonic-offset', kind: 'offset-reused', ids: ['m0', 'm1'], ops: [i0, i1], offsets: [5] }]);
});

t.test('missing redelivery: nacked with requeue (or held by a crashed consumer) and never back', async (t) => {
  const h = new HistoryBuilder();
  h.subscribe('c1', 'q', 'q');
  h.send('p1', 'm1', 'q');
  const d = h.poll('c1', [{ id: 'm1', stream: 'q' }]);
  const n = h.nack('c1', ['m1']);
  const drain = h.drain(['q']);
  t.same(cases(h), [{ anomaly: 'missing-redelivery', ids: ['m1'], ops: [d, n, drain], target: 'q' }]);

  const crashed = new HistoryBuilder();
  crashed.subscribe('c1', 'q', 'q');
  crashed.send('p1', 'm1', 'q');
  const d2 = crashed.poll('c1', [{ id: 'm1', stream: 'q' }]);
  const c = crashed.crash('c1');
  const drain2 = crashed.drain(['q']);
  t.same(cases(crashed), [{ anomaly: 'missing-redelivery', ids: ['m1'], ops: [d2, c, drain2], target: 'q' }]);

  const autoAck = new HistoryBuilder();
  autoAck.subscribe('c1', 'q', 'q', { ack: 'auto' });
  autoAck.send('p1', 'm1', 'q');
  autoAck.poll('c1', [{ id: 'm1', stream: 'q' }]);
  autoAck.crash('c1');
  autoAck.drain(['q']);
  t.same(cases(autoAck), [], 'auto-acked deliveries owe nothing');
});

t.test('redelivery past the limit', async (t) => {
  const h = new HistoryBuilder();
  h.subscribe('c1', 'q', 'q', { maxDeliveries: 2 });
  h.send('p1', 'm1', 'q');
  h.poll('c1', [{ id: 'm1', stream: 'q' }]);
  h.nack('c1', ['m1']);
  const second = h.poll('c1', [{ id: 'm1', stream: 'q', redelivered: true }]);
  h.nack('c1', ['m1']);
  const third = h.poll('c1', [{ id: 'm1', stream: 'q', redelivered: true }]);
  h.ack('c1', ['m1']);
  t.same(cases(h), [{ anomaly: 'redelivery-past-limit', ids: ['m1'], ops: [second, third], target: 'q' }]);
});

t.test('broadcast member missed a message', async (t) => {
  const h = new HistoryBuilder();
  h.subscribe('a#1', 'g', 't', { mode: 'broadcast', member: 'a' });
  h.subscribe('b#1', 'g', 't', { mode: 'broadcast', member: 'b' });
  const [inv, ok] = h.send('p1', 'm1', 't');
  h.poll('a#1', [{ id: 'm1', stream: 't/0' }]);
  const drain = h.drain(['g@a', 'g@b']);
  t.same(cases(h), [{ anomaly: 'broadcast-member-missed', ids: ['m1'], ops: [inv, ok, drain], target: 'g@b' }]);
});

t.test('tag filter leak', async (t) => {
  const h = new HistoryBuilder();
  h.subscribe('c1', 'g', 't', { tags: ['A', 'B'] });
  const [inv] = h.send('p1', 'm1', 't', {}, { tags: 'C' });
  const d = h.poll('c1', [{ id: 'm1', stream: 't/0', tags: 'C' }]);
  t.same(cases(h), [{ anomaly: 'tag-filter-leak', ids: ['m1'], ops: [inv, d], target: 'g' }]);
});

t.test('unroutable delivered, and misrouted', async (t) => {
  const h = new HistoryBuilder();
  h.subscribe('c1', 'q1', 'q1');
  const [inv] = h.send('p1', 'm1', 'ex', { returned: true });
  const d = h.poll('c1', [{ id: 'm1', stream: 'q1' }]);
  t.same(cases(h), [{ anomaly: 'unroutable-delivered', ids: ['m1'], ops: [inv, d], target: 'q1' }]);

  const mis = new HistoryBuilder();
  mis.subscribe('c1', 'q1', 'q1');
  const [inv2] = mis.send('p1', 'm1', 'ex', {}, { expect: ['q2'] });
  const d2 = mis.poll('c1', [{ id: 'm1', stream: 'q1' }]);
  t.same(cases(mis), [{ anomaly: 'misrouted', ids: ['m1'], ops: [inv2, d2], target: 'q1' }]);
});

t.test('duplicate write, and the verdict per guarantee', async (t) => {
  const h = new HistoryBuilder();
  h.subscribe('c1', 'g', 'log', { ack: 'offset' });
  const [inv] = h.send('p1', 'm1', 'log', { stream: 'log/0', offset: 0 });
  const d1 = h.poll('c1', [{ id: 'm1', stream: 'log/0', offset: 0 }]);
  const d2 = h.poll('c1', [{ id: 'm1', stream: 'log/0', offset: 1 }]);
  const all = findAnomalies(h.ops);
  t.same(cases(h, 'duplicate-write'), [{ anomaly: 'duplicate-write', ids: ['m1'], ops: [inv, d1, d2], offsets: [0, 1] }]);
  t.equal(judge(all.filter((c) => c.anomaly === 'duplicate-write'), { guarantee: 'at-least-once' }).valid, true, 'at-least-once allows a duplicate write');
  t.same(judge(all.filter((c) => c.anomaly === 'duplicate-write'), { guarantee: 'exactly-once' }).failures, ['duplicate-write']);
  const lost = [{ anomaly: 'lost' as const, ids: ['x'], ops: [], times: [], note: '' }];
  t.equal(judge(lost, { guarantee: 'at-most-once' }).valid, true, 'at-most-once allows loss');
  t.same(judge(lost, { guarantee: 'at-least-once' }).failures, ['lost']);
  t.equal(judge(lost, { guarantee: 'at-least-once', allow: ['lost'] }).valid, true, 'a check may allow an anomaly');
});
