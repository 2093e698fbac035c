/** Names and settings the engine crash children and the campaign's checks share. */
import { Broker } from '../../core/rocketmq';

export const KAFKA_TOPIC = 'crash-t';
export const KAFKA_GROUP = 'crash-g';
export const KAFKA_PARTITIONS = 3;

export const RABBIT_QUEUE = 'crash-q';

export const ROCKET_TOPIC = 'CrashTopic';
export const ROCKET_GROUP = 'crash_group';
export const ROCKET_QUEUES = 4;

export function openCrashBroker(dir: string): Broker {
  return new Broker({ dataDir: dir, flush: 'sync', segmentBytes: 1024 * 1024, maxMessageSize: 64 * 1024, persistIntervalMs: 50, scheduleIntervalMs: 1000 }).start();
}
