/**
 * Crash-campaign child for the RabbitMQ engine (durability 'sync'): publishes persistent messages
 * with confirms to a durable queue, consumes with manual acks, and is SIGKILLed. stdout lines:
 *   R                 engine open
 *   P <index>         publish confirmed
 *   D <index> <0|1>   delivered (redelivered flag), not yet acked
 *   K <index>         ack sent (an ack is not confirmed, so after a kill the message may return)
 * Usage: rabbitmq-crash-child.ts DATA_DIR START_INDEX
 */
import { RabbitEngine } from '../../core/rabbitmq';
import { emit } from './emit';
import { RABBIT_QUEUE } from './crash-setup';
import { patternIndex, patternPayload } from './record-pattern';

async function main(): Promise<void> {
  const [dir, startArg] = process.argv.slice(2);
  let next = Number(startArg);
  const engine = RabbitEngine.open(dir!, { durability: 'sync' });
  const pub = await engine.createConfirmChannel();
  await pub.assertQueue(RABBIT_QUEUE, { durable: true });
  emit('R\n');
  const sub = await engine.createChannel();
  await sub.prefetch(64);
  const held: Array<{ ref: Parameters<typeof sub.ack>[0]; i: number }> = [];
  await sub.consume(RABBIT_QUEUE, (m) => {
    if (!m) return;
    const i = patternIndex(m.content);
    emit(`D ${i} ${m.fields.redelivered ? 1 : 0}\n`);
    held.push({ ref: m, i });
  });
  const ackSome = (): void => {
    // Ack about half of what is held, oldest first; the rest stays unacked when the kill comes.
    const n = Math.floor(held.length / 2);
    let out = '';
    for (const h of held.splice(0, n)) {
      sub.ack(h.ref);
      out += `K ${h.i}\n`;
    }
    if (out) emit(out);
    setTimeout(ackSome, 5);
  };
  ackSome();
  const publish = (): void => {
    const n = 1 + Math.floor(Math.random() * 16);
    for (let k = 0; k < n; k++) {
      const i = next++;
      pub.sendToQueue(RABBIT_QUEUE, patternPayload(i), { persistent: true }, (err) => {
        if (err) process.stderr.write(`nack ${i}: ${String(err)}\n`);
        else emit(`P ${i}\n`);
      });
    }
    pub.waitForConfirms().then(() => setImmediate(publish), (e: unknown) => {
      process.stderr.write(`confirms failed: ${String(e)}\n`);
      process.exit(3);
    });
  };
  publish();
}

main().catch((e) => {
  process.stderr.write(`rabbitmq crash child failed: ${String(e)}\n`);
  process.exit(3);
});

