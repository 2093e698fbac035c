import path from 'node:path';
import { PERM_READ, PERM_WRITE, type TopicConfig } from './broker-api';
import { readJsonFile, writeJsonFile } from './json-file';

/** Topics and subscription groups a broker knows (`config/topics.json`, `config/subscriptionGroup.json`). */
export interface SubscriptionGroupConfig {
  groupName: string;
  retryMaxTimes: number;
}

export class TopicConfigManager {
  readonly topics: Map<string, TopicConfig>;
  readonly groups: Map<string, SubscriptionGroupConfig>;
  private readonly topicsFile: string;
  private readonly groupsFile: string;

  constructor(configDir: string) {
    this.topicsFile = path.join(configDir, 'topics.json');
    this.groupsFile = path.join(configDir, 'subscriptionGroup.json');
    this.topics = new Map(Object.entries(readJsonFile<Record<string, TopicConfig>>(this.topicsFile, {})));
    this.groups = new Map(Object.entries(readJsonFile<Record<string, SubscriptionGroupConfig>>(this.groupsFile, {})));
  }

  upsertTopic(topicName: string, queueNums: number, perm = PERM_READ | PERM_WRITE): TopicConfig {
    const old = this.topics.get(topicName);
    const cfg: TopicConfig = {
      topicName,
      readQueueNums: Math.max(queueNums, old?.readQueueNums ?? 0),
      writeQueueNums: Math.max(queueNums, old?.writeQueueNums ?? 0),
      perm,
    };
    this.topics.set(topicName, cfg);
    writeJsonFile(this.topicsFile, Object.fromEntries(this.topics));
    return cfg;
  }

  upsertGroup(groupName: string, retryMaxTimes: number): SubscriptionGroupConfig {
    let g = this.groups.get(groupName);
    if (!g) {
      g = { groupName, retryMaxTimes };
      this.groups.set(groupName, g);
      writeJsonFile(this.groupsFile, Object.fromEntries(this.groups));
    }
    return g;
  }
}
