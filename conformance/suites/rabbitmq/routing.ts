/**
 * Routing: each exchange type delivers a copy to exactly the queues its bindings select (direct
 * by equal key, fanout to all, topic with `*` = one word and `#` = zero or more, headers with
 * x-match all / any), and the default exchange routes by queue name. The checker flags any copy
 * delivered elsewhere (misrouted) or missing from a drained queue (lost).
 */
import { defineCheck } from '../framework/check';
import { ids, pullAll, sameSet } from './support';

export const checks = [
  defineCheck({
    name: 'routing/direct',
    model: 'rabbitmq',
    description: 'A direct exchange routes a message to every queue bound with a key equal to its routing key, one copy per queue.',
    requires: ['exchange-direct', 'get'],
    async run(ctx) {
      const ch = await ctx.adapter.openChannel();
      const x = ctx.name('direct');
      const [qa, qb] = [ctx.name('qa'), ctx.name('qb')];
      await ch.assertExchange(x, 'direct');
      await ch.assertQueue(qa);
      await ch.assertQueue(qb);
      await ch.bindQueue(qa, x, 'red');
      await ch.bindQueue(qb, x, 'blue');
      await ch.bindQueue(qa, x, 'green');
      await ch.bindQueue(qb, x, 'green');
      const plan: Array<[string, string[]]> = [
        ['red', [qa]],
        ['blue', [qb]],
        ['green', [qa, qb]],
        ['black', []],
      ];
      const want = new Map<string, string[]>([[qa, []], [qb, []]]);
      for (let i = 0; i < 20; i++) {
        const [key, targets] = plan[i % plan.length]!;
        const id = ctx.id();
        await ch.publish(x, key, { id }, {}, targets.length ? { expect: targets } : { unroutable: true });
        for (const t of targets) want.get(t)!.push(id);
      }
      for (const q of [qa, qb]) {
        const got = ids(await pullAll(ctx, ch, q));
        ctx.expect(sameSet(got, want.get(q)!), `${q} holds exactly the messages routed to it`, { got, want: want.get(q) });
      }
    },
  }),
  defineCheck({
    name: 'routing/fanout',
    model: 'rabbitmq',
    description: 'A fanout exchange puts a copy of every message in every bound queue, whatever the routing key.',
    requires: ['exchange-fanout', 'get'],
    async run(ctx) {
      const ch = await ctx.adapter.openChannel();
      const x = ctx.name('fanout');
      const queues = [ctx.name('f1'), ctx.name('f2'), ctx.name('f3')];
      await ch.assertExchange(x, 'fanout');
      for (const q of queues) {
        await ch.assertQueue(q);
        await ch.bindQueue(q, x, q === queues[0] ? 'some-key' : '');
      }
      const sent: string[] = [];
      for (let i = 0; i < 30; i++) {
        const id = ctx.id();
        sent.push(id);
        await ch.publish(x, `key.${i}`, { id }, {}, { expect: queues });
      }
      for (const q of queues) {
        const got = ids(await pullAll(ctx, ch, q));
        ctx.expect(sameSet(got, sent), `${q} got every message`, { got: got.length, sent: sent.length });
      }
    },
  }),
  defineCheck({
    name: 'routing/topic',
    model: 'rabbitmq',
    description: 'A topic exchange matches dot-separated routing keys against binding patterns where * is exactly one word and # is zero or more words.',
    requires: ['exchange-topic', 'get'],
    async run(ctx) {
      const ch = await ctx.adapter.openChannel();
      const x = ctx.name('topic');
      const bindings: Array<[string, string]> = [
        ['star', '*.orange.*'],
        ['hash', 'lazy.#'],
        ['tail', '*.*.rabbit'],
        ['all', '#'],
        ['exact', 'a.b'],
        ['mid', 'a.#.z'],
      ];
      const q = new Map(bindings.map(([n]) => [n, ctx.name(n)]));
      await ch.assertExchange(x, 'topic');
      for (const [n, pattern] of bindings) {
        await ch.assertQueue(q.get(n)!);
        await ch.bindQueue(q.get(n)!, x, pattern);
      }
      const keys: Array<[string, string[]]> = [
        ['quick.orange.rabbit', ['star', 'tail', 'all']],
        ['lazy.orange.elephant', ['star', 'hash', 'all']],
        ['quick.orange.fox', ['star', 'all']],
        ['lazy.brown.fox', ['hash', 'all']],
        ['lazy', ['hash', 'all']],
        ['lazy.pink.rabbit', ['hash', 'tail', 'all']],
        ['quick.orange.male.rabbit', ['all']],
        ['orange', ['all']],
        ['a.b', ['exact', 'all']],
        ['a.z', ['mid', 'all']],
        ['a.x.y.z', ['mid', 'all']],
        ['a.b.c', ['all']],
        ['', ['all']],
      ];
      const want = new Map<string, string[]>([...q.values()].map((name) => [name, []]));
      for (const [key, names] of keys) {
        const id = ctx.id();
        const targets = names.map((n) => q.get(n)!);
        await ch.publish(x, key, { id }, {}, { expect: targets });
        for (const t of targets) want.get(t)!.push(id);
      }
      for (const name of q.values()) {
        const got = ids(await pullAll(ctx, ch, name));
        ctx.expect(sameSet(got, want.get(name)!), `${name} got exactly its matches`, { got, want: want.get(name) });
      }
    },
  }),
  defineCheck({
    name: 'routing/headers',
    model: 'rabbitmq',
    description: 'A headers exchange routes on message headers: x-match all needs every bound header equal, x-match any needs one.',
    requires: ['exchange-headers', 'get'],
    async run(ctx) {
      const ch = await ctx.adapter.openChannel();
      const x = ctx.name('headers');
      const [qAll, qAny] = [ctx.name('all'), ctx.name('any')];
      await ch.assertExchange(x, 'headers');
      await ch.assertQueue(qAll);
      await ch.assertQueue(qAny);
      await ch.bindQueue(qAll, x, '', { 'x-match': 'all', format: 'pdf', type: 'report' });
      await ch.bindQueue(qAny, x, '', { 'x-match': 'any', format: 'pdf', type: 'log' });
      const cases: Array<[Record<string, string>, string[]]> = [
        [{ format: 'pdf', type: 'report' }, [qAll, qAny]],
        [{ format: 'pdf' }, [qAny]],
        [{ type: 'log' }, [qAny]],
        [{ format: 'zip', type: 'report' }, []],
        [{}, []],
      ];
      const want = new Map<string, string[]>([[qAll, []], [qAny, []]]);
      for (const [headers, targets] of cases) {
        const id = ctx.id();
        await ch.publish(x, '', { id, headers }, {}, targets.length ? { expect: targets } : { unroutable: true });
        for (const t of targets) want.get(t)!.push(id);
      }
      for (const q of [qAll, qAny]) {
        const got = ids(await pullAll(ctx, ch, q));
        ctx.expect(sameSet(got, want.get(q)!), `${q} got exactly its matches`, { got, want: want.get(q) });
      }
    },
  }),
  defineCheck({
    name: 'routing/default-exchange',
    model: 'rabbitmq',
    description: 'The default exchange ("") routes a message to the queue named by its routing key.',
    requires: ['get'],
    async run(ctx) {
      const ch = await ctx.adapter.openChannel();
      const [q1, q2] = [ctx.name('d1'), ctx.name('d2')];
      await ch.assertQueue(q1);
      await ch.assertQueue(q2);
      for (let i = 0; i < 20; i++) await ch.publish('', i % 2 ? q1 : q2, { id: ctx.id() });
      const a = await pullAll(ctx, ch, q1);
      const b = await pullAll(ctx, ch, q2);
      ctx.expect(a.length === 10 && b.length === 10, 'each queue got its ten', { q1: a.length, q2: b.length });
    },
  }),
];
