import type { MessageQueue } from './message';

/**
 * RocketMQ's AllocateMessageQueueAveragely: with queues and client ids both sorted, client i gets
 * a contiguous run of ⌊q/c⌋ queues, the first q mod c clients one more; when there are more
 * clients than queues, the clients past the last queue get none.
 */
export function allocateAveragely(currentCid: string, mqAll: readonly MessageQueue[], cidAll: readonly string[]): MessageQueue[] {
  const index = cidAll.indexOf(currentCid);
  if (index < 0 || mqAll.length === 0) return [];
  const mod = mqAll.length % cidAll.length;
  const averageSize = mqAll.length <= cidAll.length ? 1
    : mod > 0 && index < mod ? Math.floor(mqAll.length / cidAll.length) + 1 : Math.floor(mqAll.length / cidAll.length);
  const startIndex = mod > 0 && index < mod ? index * averageSize : index * averageSize + mod;
  const range = Math.min(averageSize, mqAll.length - startIndex);
  const out: MessageQueue[] = [];
  for (let i = 0; i < range; i++) out.push(mqAll[(startIndex + i) % mqAll.length]!);
  return out;
}
