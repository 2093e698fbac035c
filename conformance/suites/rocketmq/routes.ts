/**
 * RocketMQ: route discovery. Brokers register their topics with the nameserver; a route lists
 * every broker holding the topic and its queues; producers spread messages over all of them; a
 * broker that stops heart-beating disappears from the route after the expiry (120 s).
 */
import { defineCheck } from '../framework/check';
import { count, extension, messages, sendAll } from './support';

export const checks = [
  defineCheck({
    name: 'routes/discovery-and-round-robin',
    model: 'rocketmq',
    description: 'the route of a topic lists every broker and queue it was created on; round-robin sends use every queue; an unknown topic has no route',
    requires: ['clustering'],
    async run(ctx) {
      const topic = ctx.name('routed');
      await ctx.adapter.createTopic(topic, { queues: 3 });
      const route = await ctx.adapter.route(topic);
      ctx.expect(route.brokers.length >= 1 && route.queues.length === 3 * route.brokers.length, 'route has 3 queues on each broker', route);
      const p = await ctx.adapter.producer({ group: ctx.name('pg') });
      const results = await sendAll(p, messages(ctx, topic, Math.max(route.queues.length * 4, 24)));
      const used = new Set(results.map((r) => `${r.broker}/${r.queueId}`));
      ctx.expect(used.size === route.queues.length, 'round-robin sends reached every queue of the route', { used: [...used], route: route.queues });
      let refused = false;
      try {
        await ctx.adapter.route(ctx.name('never-created'));
      } catch {
        refused = true;
      }
      ctx.expect(refused, 'an unknown topic has no route (an error, not an empty route)');
      await p.close();
    },
  }),
  defineCheck({
    name: 'routes/broker-expiry',
    model: 'rocketmq',
    description: 'a broker that stops heart-beating stays in the route within 120 s, is dropped after it, and producers keep sending to the brokers left',
    requires: ['route-expiry', 'virtual-time'],
    async run(ctx) {
      const stop = extension<(name: string) => Promise<void>>(ctx, 'stopBroker');
      const start = extension<(name: string) => Promise<void>>(ctx, 'startBroker');
      ctx.expect(stop !== undefined && start !== undefined, 'an adapter with route-expiry needs stopBroker(name) / startBroker(name) to stop heartbeats');
      if (!stop || !start) return;
      const topic = ctx.name('expiry');
      await ctx.adapter.createTopic(topic, { queues: 2 });
      const before = await ctx.adapter.route(topic);
      ctx.expect(before.brokers.length >= 2, 'the check needs two brokers', before);
      const victim = before.brokers[before.brokers.length - 1]!.name;
      await stop(victim);
      await ctx.adapter.advanceTime(60_000);
      const mid = await ctx.adapter.route(topic);
      ctx.expect(mid.brokers.some((b) => b.name === victim), 'still routed 60 s after its last heartbeat', mid);
      await ctx.adapter.advanceTime(61_000);
      const after = await ctx.adapter.route(topic);
      ctx.expect(!after.brokers.some((b) => b.name === victim) && !after.queues.some((q) => q.broker === victim), 'dropped from the route after 121 s', after);
      const p = await ctx.adapter.producer({ group: ctx.name('pg') });
      const results = await sendAll(p, messages(ctx, topic, count(ctx, 20)));
      ctx.expect(results.every((r) => r.broker !== victim), 'sends go to the brokers left', results.filter((r) => r.broker === victim));
      await start(victim);
      const back = await ctx.adapter.route(topic);
      ctx.expect(back.brokers.some((b) => b.name === victim), 'a restarted broker registers again', back);
      await p.close();
    },
  }),
];
