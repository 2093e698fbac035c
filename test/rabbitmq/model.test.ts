import t from 'tap';
import fc from 'fast-check';
import { TopicPattern } from '../../core/rabbitmq/topic-pattern';
import { RabbitEngine } from '../../core/rabbitmq';
import type { Channel, GetMessage } from '../../core/rabbitmq';
import { settle } from './helpers';

/** Brute-force reference: try every way of letting each # absorb 0..n words. */
function refMatch(p: string[], k: string[]): boolean {
  if (p.length === 0) return k.length === 0;
  const [head, ...rest] = p;
  if (head === '#') {
    for (let i = 0; i <= k.length; i++) if (refMatch(rest, k.slice(i))) return true;
    return false;
  }
  if (k.length === 0) return false;
  return (head === '*' || head === k[0]) && refMatch(rest, k.slice(1));
}

t.test('topic matching agrees with a brute-force reference', async (t) => {
  const word = fc.constantFrom('a', 'b', 'c', '');
  const pword = fc.constantFrom('a', 'b', '*', '#');
  t.doesNotThrow(() =>
    fc.assert(
      fc.property(fc.array(pword, { minLength: 1, maxLength: 5 }), fc.array(word, { minLength: 1, maxLength: 5 }), (p, k) => {
        return new TopicPattern(p.join('.')).matches(k.join('.')) === refMatch(p, k);
      }),
      { numRuns: 3000 },
    ),
  );
});

type Op =
  | { k: 'publish'; n: number }
  | { k: 'get'; ch: number }
  | { k: 'ack'; ch: number; pick: number; multiple: boolean }
  | { k: 'nack'; ch: number; pick: number; requeue: boolean; multiple: boolean }
  | { k: 'close'; ch: number }
  | { k: 'consume'; ch: number; prefetch: number }
  | { k: 'tick' };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ k: fc.constant('publish' as const), n: fc.integer({ min: 1, max: 5 }) }),
  fc.record({ k: fc.constant('get' as const), ch: fc.integer({ min: 0, max: 2 }) }),
  fc.record({ k: fc.constant('ack' as const), ch: fc.integer({ min: 0, max: 2 }), pick: fc.nat(), multiple: fc.boolean() }),
  fc.record({ k: fc.constant('nack' as const), ch: fc.integer({ min: 0, max: 2 }), pick: fc.nat(), requeue: fc.boolean(), multiple: fc.boolean() }),
  fc.record({ k: fc.constant('close' as const), ch: fc.integer({ min: 0, max: 2 }) }),
  fc.record({ k: fc.constant('consume' as const), ch: fc.integer({ min: 0, max: 2 }), prefetch: fc.integer({ min: 0, max: 3 }) }),
  fc.record({ k: fc.constant('tick' as const) }),
);

t.test('random publish / get / consume / ack / nack / close: nothing lost, nothing settled twice, FIFO of first deliveries', async (t) => {
  const run = fc.assert(
    fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 60 }), async (ops) => {
      const engine = RabbitEngine.open(null);
      try {
        const channels: Channel[] = [];
        const held: Array<Map<number, string>> = [new Map(), new Map(), new Map()];
        const chan = async (i: number): Promise<Channel> => {
          if (!channels[i] || channels[i]!.closed) {
            channels[i] = await engine.createChannel();
            held[i] = new Map();
          }
          return channels[i]!;
        };
        const admin = await engine.createChannel();
        await admin.assertQueue('q', { durable: false, deadLetterExchange: '', deadLetterRoutingKey: 'dead' });
        await admin.assertQueue('dead', { durable: false });
        let next = 0;
        const acked = new Set<string>();
        const firstDeliveries: number[] = [];
        const seen = new Set<string>();
        const onDelivery = (i: number, m: { fields: { deliveryTag: number; redelivered: boolean }; content: Buffer }) => {
          const id = m.content.toString();
          held[i]!.set(m.fields.deliveryTag, id);
          if (!seen.has(id)) {
            seen.add(id);
            firstDeliveries.push(Number(id));
            if (m.fields.redelivered) throw new Error(`first delivery of ${id} flagged redelivered`);
          } else if (!m.fields.redelivered) throw new Error(`redelivery of ${id} not flagged`);
          if (acked.has(id)) throw new Error(`${id} delivered after it was acked`);
        };
        for (const op of ops) {
          if (op.k === 'publish') for (let j = 0; j < op.n; j++) admin.sendToQueue('q', Buffer.from(String(next++)));
          else if (op.k === 'get') {
            const ch = await chan(op.ch);
            const m = (await ch.get('q')) as GetMessage | false;
            if (m) onDelivery(op.ch, m);
          } else if (op.k === 'consume') {
            const ch = await chan(op.ch);
            await ch.prefetch(op.prefetch);
            const i = op.ch;
            await ch.consume('q', (m) => m && onDelivery(i, m));
          } else if (op.k === 'ack' || op.k === 'nack') {
            const tags = [...held[op.ch]!.keys()];
            if (tags.length === 0) continue;
            const ch = channels[op.ch]!;
            const tag = tags[op.pick % tags.length]!;
            const covered = op.multiple ? tags.filter((x) => x <= tag) : [tag];
            if (op.k === 'ack') {
              ch.ack(tag, op.multiple);
              for (const x of covered) {
                const id = held[op.ch]!.get(x)!;
                if (acked.has(id)) throw new Error(`${id} acked twice`);
                acked.add(id);
              }
            } else {
              ch.nack(tag, op.multiple, op.requeue);
              if (!op.requeue) for (const x of covered) acked.add(held[op.ch]!.get(x)!); // dead-lettered
            }
            for (const x of covered) held[op.ch]!.delete(x);
          } else if (op.k === 'close') {
            if (channels[op.ch] && !channels[op.ch]!.closed) await channels[op.ch]!.close();
            held[op.ch] = new Map();
          } else await settle();
          // Ack a settled tag again: always refused, nothing changes.
          for (const ch of channels) if (ch && !ch.closed) {
            try {
              ch.ack(1e9);
              throw new Error('unknown tag accepted');
            } catch (e) {
              if ((e as { code?: string }).code !== 'PRECONDITION_FAILED') throw e;
            }
          }
        }
        // Close everything and count: every message is acked, dead-lettered or back in the queue.
        for (const ch of channels) if (ch && !ch.closed) await ch.close();
        await settle();
        const inQueue = (await admin.checkQueue('q')).messageCount;
        const inDead = (await admin.checkQueue('dead')).messageCount;
        const ackedOnly = [...acked].length - inDead;
        if (ackedOnly + inDead + inQueue !== next) throw new Error(`accounting: ${ackedOnly} acked + ${inDead} dead + ${inQueue} queued != ${next} published`);
        for (let i = 1; i < firstDeliveries.length; i++) {
          if (firstDeliveries[i]! < firstDeliveries[i - 1]!) throw new Error(`first deliveries out of order: ${firstDeliveries.join(',')}`);
        }
        // What is left comes out in publish order.
        const rest: number[] = [];
        for (;;) {
          const m = await admin.get('q', { noAck: true });
          if (!m) break;
          rest.push(Number(m.content.toString()));
        }
        for (let i = 1; i < rest.length; i++) if (rest[i]! < rest[i - 1]!) throw new Error(`queue order broken: ${rest.join(',')}`);
        if (rest.some((id) => acked.has(String(id)))) throw new Error('an acked message is still queued');
      } finally {
        await engine.close();
      }
    }),
    { numRuns: 300 },
  );
  await t.resolves(run, 'the property held for 300 random histories');
});
