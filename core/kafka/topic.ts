import * as fs from 'node:fs';
import * as path from 'node:path';
import { checkName, fileNameFor, type NameRule } from '../names';
import { isMqlabError } from '../errors';
import { KafkaErrors } from './errors';
import { Partition, type PartitionOptions } from './partition';

/** Kafka's topic name rule: 1..249 characters of [a-zA-Z0-9._-], not "." or "..". */
export const TOPIC_NAME_RULE: NameRule = { kind: 'topic', pattern: /^[a-zA-Z0-9._-]+$/, maxLength: 249, description: 'ASCII letters, digits, ".", "_" and "-"' };

export function checkTopicName(name: unknown): string {
  try {
    return checkName(TOPIC_NAME_RULE, name);
  } catch (e) {
    if (isMqlabError(e, 'ERR_BAD_NAME')) throw KafkaErrors.invalidTopic(name, e.message.replace(/^invalid topic name "[^"]*": /, ''));
    throw e;
  }
}

/** Per-topic settings (Kafka's topic configs), stored beside the partitions in topic.json. */
export interface TopicConfig {
  numPartitions: number;
  /** retention.ms; -1 keeps forever. */
  retentionMs: number;
  /** retention.bytes per partition; -1 is unbounded. */
  retentionBytes: number;
  /** segment.bytes */
  segmentBytes: number;
  /** segment.ms: the active segment rolls once its first record is this old (ms). */
  segmentMs: number;
}

/** Partition options every topic of an engine shares (the rest comes from the topic's config). */
export type PartitionBase = Omit<PartitionOptions, 'segmentBytes' | 'retentionMs' | 'retentionBytes' | 'segmentMs'>;

export class Topic {
  private constructor(readonly name: string, readonly dir: string, readonly config: TopicConfig, readonly partitions: Partition[]) {}

  static create(topicsDir: string, name: string, config: TopicConfig, base: PartitionBase): Topic {
    const dir = path.join(topicsDir, fileNameFor(name));
    fs.mkdirSync(dir, { recursive: true });
    const file = path.join(dir, 'topic.json');
    const tmp = file + '.tmp';
    const fd = fs.openSync(tmp, 'w');
    try {
      fs.writeSync(fd, JSON.stringify({ name, ...config }, null, 2));
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, file);
    return Topic.openDir(dir, name, config, base);
  }

  /** Opens a topic directory written by create (null if it holds no topic.json). */
  static load(dir: string, base: PartitionBase, defaultSegmentMs: number): Topic | null {
    const file = path.join(dir, 'topic.json');
    if (!fs.existsSync(file)) return null;
    const raw = JSON.parse(fs.readFileSync(file, 'utf8')) as { name: string } & TopicConfig;
    const name = checkTopicName(raw.name);
    // Topics written before segment.ms existed take the engine's default.
    const segmentMs = typeof raw.segmentMs === 'number' && Number.isInteger(raw.segmentMs) && raw.segmentMs >= 1 ? raw.segmentMs : defaultSegmentMs;
    return Topic.openDir(dir, name, { numPartitions: raw.numPartitions, retentionMs: raw.retentionMs, retentionBytes: raw.retentionBytes, segmentBytes: raw.segmentBytes, segmentMs }, base);
  }

  private static openDir(dir: string, name: string, config: TopicConfig, base: PartitionBase): Topic {
    const partitions: Partition[] = [];
    try {
      for (let i = 0; i < config.numPartitions; i++) {
        partitions.push(
          Partition.open(name, i, path.join(dir, String(i)), {
            ...base,
            maxBatchBytes: maxBatchBytesFor(base.maxBatchBytes, config.segmentBytes),
            segmentBytes: config.segmentBytes,
            segmentMs: config.segmentMs,
            retentionMs: config.retentionMs >= 0 ? config.retentionMs : undefined,
            retentionBytes: config.retentionBytes >= 0 ? config.retentionBytes : undefined,
          }),
        );
      }
    } catch (e) {
      for (const p of partitions) p.close();
      throw e;
    }
    return new Topic(name, dir, config, partitions);
  }

  /** Largest record batch a partition of this topic takes: message.max.bytes, capped so one fits a segment. */
  get maxBatchBytes(): number {
    return maxBatchBytesFor(this.partitions[0]!.maxBatchBytes, this.config.segmentBytes);
  }

  partition(id: unknown): Partition {
    if (typeof id !== 'number' || !Number.isInteger(id) || id < 0 || id >= this.partitions.length) throw KafkaErrors.unknownPartition(this.name, id, this.partitions.length);
    return this.partitions[id]!;
  }

  close(): void {
    for (const p of this.partitions) p.close();
  }
}

/** The storage core needs one framed record (plus segment header) to fit in a segment. */
function maxBatchBytesFor(maxMessageBytes: number, segmentBytes: number): number {
  return Math.min(maxMessageBytes, segmentBytes - 256);
}
