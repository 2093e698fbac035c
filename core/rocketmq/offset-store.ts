import path from 'node:path';
import os from 'node:os';
import { fileNameFor } from '../names';
import type { BrokerApi } from './broker-api';
import type { MQClient } from './client';
import { readJsonFile, writeJsonFile } from './json-file';
import { mqKey, type MessageQueue } from './message';

/** Where a consumer keeps its progress (RocketMQ `OffsetStore`). -1 = nothing stored. */
export interface OffsetStore {
  read(mq: MessageQueue): Promise<number>;
  update(mq: MessageQueue, offset: number): Promise<void>;
  /**
   * The push consumer's per-batch store: `broker` is the queue's broker, already known. Never
   * throws or rejects (a failed store is covered by the next one); returns a promise only when
   * the store crossed a thread, so the in-process path allocates nothing.
   */
  updateQuietly(mq: MessageQueue, offset: number, broker: BrokerApi): Promise<void> | undefined;
  persist(): Promise<void>;
}

const ignore = (): void => undefined;

/** CLUSTERING: the broker that holds the queue keeps the group's offset. */
export class RemoteBrokerOffsetStore implements OffsetStore {
  constructor(private readonly client: MQClient, private readonly group: string) {}

  async read(mq: MessageQueue): Promise<number> {
    return (await this.client.brokerFor(mq)).queryConsumerOffset(this.group, mq.topic, mq.queueId);
  }

  async update(mq: MessageQueue, offset: number): Promise<void> {
    await (await this.client.brokerFor(mq)).updateConsumerOffset(this.group, mq.topic, mq.queueId, offset);
  }

  updateQuietly(mq: MessageQueue, offset: number, broker: BrokerApi): Promise<void> | undefined {
    try {
      const r = broker.updateConsumerOffset(this.group, mq.topic, mq.queueId, offset);
      if (r instanceof Promise) return r.catch(ignore);
    } catch {
      // ignored: the next store carries a later offset
    }
    return undefined;
  }

  async persist(): Promise<void> {}
}

/** Default directory of BROADCASTING offsets (RocketMQ uses ~/.rocketmq_offsets). */
export function defaultOffsetStoreDir(): string {
  return path.join(os.homedir(), '.mqlab_rocketmq_offsets');
}

/**
 * BROADCASTING: each consumer instance keeps its own offsets in a local file,
 * `<dir>/<clientId>/<group>/offsets.json`, so an instance restarted with the same
 * instanceName resumes where it stopped while the others keep theirs.
 */
export class LocalFileOffsetStore implements OffsetStore {
  private readonly file: string;
  private readonly table: Record<string, number>;
  private dirty = false;

  constructor(dir: string, clientId: string, group: string) {
    this.file = path.join(dir, fileNameFor(clientId), fileNameFor(group), 'offsets.json');
    this.table = readJsonFile<{ offsetTable?: Record<string, number> }>(this.file, {}).offsetTable ?? {};
  }

  async read(mq: MessageQueue): Promise<number> {
    return this.table[mqKey(mq)] ?? -1;
  }

  async update(mq: MessageQueue, offset: number): Promise<void> {
    this.updateQuietly(mq, offset);
  }

  updateQuietly(mq: MessageQueue, offset: number): undefined {
    const k = mqKey(mq);
    if (this.table[k] !== offset) {
      this.table[k] = offset;
      this.dirty = true;
    }
  }

  async persist(): Promise<void> {
    if (!this.dirty) return;
    writeJsonFile(this.file, { offsetTable: this.table });
    this.dirty = false;
  }
}
