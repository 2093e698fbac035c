/**
 * Permission child: sets the umask given, then creates data through the storage core and every
 * engine under DIR, and exits. The parent checks no file or directory is wider than the umask allows.
 * Usage: umask-child.ts DIR UMASK_OCTAL
 */
import * as path from 'node:path';
import { CommitLog, IndexFile } from '../../core/log';
import { KafkaEngine } from '../../core/kafka';
import { RabbitEngine } from '../../core/rabbitmq';
import { Broker } from '../../core/rocketmq';
import { emit } from './emit';

async function main(): Promise<void> {
  const [dir, mask] = process.argv.slice(2);
  process.umask(parseInt(mask!, 8));
  const log = CommitLog.open(path.join(dir!, 'core-log'), { segmentBytes: 64 * 1024, flush: 'sync' });
  for (let i = 0; i < 2000; i++) log.append(Buffer.alloc(100, i));
  log.flushSync();
  log.close();
  const idx = IndexFile.open(path.join(dir!, 'core-index.idx'), { entryBytes: 20 });
  idx.append(Buffer.alloc(20));
  idx.close();
  const k = KafkaEngine.open(path.join(dir!, 'kafka'), { retentionCheckIntervalMs: 0 });
  k.createTopic('perm-t', { numPartitions: 2, segmentBytes: 64 * 1024 });
  await k.producer().send({ topic: 'perm-t', acks: 'all', messages: [{ value: 'x' }, { value: 'y' }] });
  const c = k.consumer({ groupId: 'perm-g', autoCommit: false });
  c.assign([{ topic: 'perm-t', partition: 0 }]);
  c.seekToBeginning();
  await c.poll(0);
  await c.commit();
  await c.close();
  k.close();
  const r = RabbitEngine.open(path.join(dir!, 'rabbitmq'), { durability: 'sync' });
  const ch = await r.createConfirmChannel();
  await ch.assertExchange('perm-x', 'direct');
  await ch.assertQueue('perm-q', { durable: true });
  await ch.bindQueue('perm-q', 'perm-x', 'k');
  ch.publish('perm-x', 'k', Buffer.from('m'), { persistent: true });
  await ch.waitForConfirms();
  await r.close();
  const b = new Broker({ dataDir: path.join(dir!, 'rocketmq'), segmentBytes: 1024 * 1024, maxMessageSize: 65536, persistIntervalMs: 0, scheduleIntervalMs: 0 } as never).start();
  b.createTopic('PermTopic', 2);
  b.sendMessage({ topic: 'PermTopic', queueId: 0, messages: [{ topic: 'PermTopic', body: 'b', keys: 'k1' }] });
  await b.pullMessage({ group: 'perm_group', topic: 'PermTopic', queueId: 0, queueOffset: 0, maxMsgNums: 1 });
  b.updateConsumerOffset('perm_group', 'PermTopic', 0, 1);
  b.persist();
  b.shutdown();
  emit('done\n');
}

main().catch((e: unknown) => {
  process.stderr.write(`${(e as Error)?.stack ?? String(e)}\n`);
  process.exit(3);
});
