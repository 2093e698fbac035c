import path from 'node:path';
import { PROPERTY_DELAY_TIME_LEVEL, PROPERTY_REAL_QUEUE_ID, PROPERTY_REAL_TOPIC } from './constants';
import { readJsonFile, writeJsonFile } from './json-file';
import type { ConsumeQueue } from './consume-queue';
import type { DecodedRecord } from './message-codec';

export interface ScheduleHooks {
  /** The SCHEDULE_TOPIC queue of a level (queueId = level - 1). */
  queueOf(level: number): ConsumeQueue;
  read(position: number): DecodedRecord;
  /** Puts the message again on its real topic and queue. */
  redeliver(record: DecodedRecord, realTopic: string, realQueueId: number, props: Record<string, string>): void;
}

/**
 * Delayed messages (RocketMQ's ScheduleMessageService): a message with delay level n is stored in
 * SCHEDULE_TOPIC_XXXX queue n-1 with its due time as the ConsumeQueue tag code; `tick()` moves
 * every due message back to its real topic. Per-level progress is kept in `config/delayOffset.json`.
 * Time comes from the broker's clock, so tests move it instead of waiting.
 */
export class ScheduleService {
  private readonly offsets: number[];
  private readonly file: string;
  private dirty = false;

  constructor(configDir: string, readonly levels: readonly number[], private readonly hooks: ScheduleHooks, private readonly clock: () => number) {
    this.file = path.join(configDir, 'delayOffset.json');
    const stored = readJsonFile<{ offsetTable?: number[] }>(this.file, {}).offsetTable ?? [];
    this.offsets = levels.map((_, i) => stored[i] ?? 0);
  }

  /** Delivers every message due by now; returns how many. */
  tick(now = this.clock()): number {
    let moved = 0;
    for (let level = 1; level <= this.levels.length; level++) {
      const cq = this.hooks.queueOf(level);
      let offset = this.offsets[level - 1]!;
      while (offset < cq.maxOffset) {
        const e = cq.entry(offset);
        if (e.tagsCode > now) break;
        const rec = this.hooks.read(e.position);
        const props = { ...rec.properties };
        const realTopic = props[PROPERTY_REAL_TOPIC];
        const realQid = Number(props[PROPERTY_REAL_QUEUE_ID]);
        delete props[PROPERTY_REAL_TOPIC];
        delete props[PROPERTY_REAL_QUEUE_ID];
        delete props[PROPERTY_DELAY_TIME_LEVEL];
        if (realTopic !== undefined && Number.isInteger(realQid)) {
          this.hooks.redeliver(rec, realTopic, realQid, props);
          moved++;
        }
        offset++;
        this.offsets[level - 1] = offset;
        this.dirty = true;
      }
    }
    return moved;
  }

  /** Messages still waiting, per level. */
  pending(): number[] {
    return this.levels.map((_, i) => this.hooks.queueOf(i + 1).maxOffset - this.offsets[i]!);
  }

  persist(force = false): void {
    if (!this.dirty && !force) return;
    writeJsonFile(this.file, { offsetTable: this.offsets });
    this.dirty = false;
  }
}
