import { partitionForKey } from './murmur2';

/**
 * Kafka's default partitioning: a keyed record goes to `murmur2(key) % n` (same key → same
 * partition, for as long as the partition count is unchanged); a record without a key goes to the
 * topic's current "sticky" partition, which moves on (round-robin) once `stickyBatchBytes` have been
 * sent to it — Kafka's uniform sticky partitioner (KIP-480/794): big batches, even spread over time.
 */
export class StickyPartitioner {
  private readonly sticky = new Map<string, { partition: number; bytes: number }>();
  private next = 0;

  constructor(private readonly stickyBatchBytes = 16384) {}

  forKey(key: Uint8Array, numPartitions: number): number {
    return partitionForKey(key, numPartitions);
  }

  /** Partition for a keyless record of `bytes` bytes. */
  forKeyless(topic: string, numPartitions: number, bytes: number): number {
    let s = this.sticky.get(topic);
    if (s === undefined) {
      s = { partition: this.next++ % numPartitions, bytes: 0 };
      this.sticky.set(topic, s);
    }
    if (s.partition >= numPartitions || s.bytes >= this.stickyBatchBytes) {
      s.partition = (s.partition + 1) % numPartitions;
      s.bytes = 0;
    }
    s.bytes += bytes;
    return s.partition;
  }
}
