/**
 * RocketMQ: message queries. The msgId from a send result locates the message (broker +
 * CommitLog offset); `queryByKey` finds every message of a topic carrying a key.
 */
import { defineCheck } from '../framework/check';
import { messages, sendAll } from './support';

export const checks = [
  defineCheck({
    name: 'query/by-msgid-and-key',
    model: 'rocketmq',
    description: 'each msgId returned by a send finds that message; a key finds every message of the topic sent with it, and only those; unknown ids and keys find nothing',
    requires: ['query-by-id', 'keys'],
    async run(ctx) {
      const topic = ctx.name('lookup');
      const other = ctx.name('elsewhere');
      await ctx.adapter.createTopic(topic, { queues: 2 });
      await ctx.adapter.createTopic(other, { queues: 1 });
      const p = await ctx.adapter.producer({ group: ctx.name('pg') });
      const sent = messages(ctx, topic, 30, (i) => ({ keys: [`order-${i % 3}`, `item-${i}`], tags: 'T' }));
      const results = await sendAll(p, sent);
      await sendAll(p, messages(ctx, other, 3, () => ({ keys: ['order-0'] })));
      for (const [i, r] of results.entries()) {
        const m = await ctx.adapter.queryById(topic, r.msgId);
        ctx.expect(m !== null && m.id === sent[i]!.id && m.queueOffset === r.queueOffset && m.broker === r.broker, `msgId ${r.msgId} finds its message`, { sent: sent[i]!.id, got: m?.id });
      }
      await ctx.sleep(50);
      const byKey = await ctx.adapter.queryByKey(topic, 'order-0');
      const want = sent.filter((_, i) => i % 3 === 0).map((m) => m.id);
      ctx.expect(byKey.length === want.length && want.every((id) => byKey.some((m) => m.id === id)), 'key order-0 finds its ten messages of this topic only', { got: byKey.map((m) => m.id) });
      const one = await ctx.adapter.queryByKey(topic, 'item-7');
      ctx.expect(one.length === 1 && one[0]!.id === sent[7]!.id, 'a second key of a message finds it too', one.map((m) => m.id));
      ctx.expect((await ctx.adapter.queryByKey(topic, 'no-such-key')).length === 0, 'an unknown key finds nothing');
      const last = results[results.length - 1]!.msgId;
      const bogus = last.slice(0, 16) + 'FFFFFFFFFFFF' + last.slice(28);
      ctx.expect((await ctx.adapter.queryById(topic, bogus)) === null, 'an id past the end of the CommitLog finds nothing');
      await p.close();
    },
  }),
];
