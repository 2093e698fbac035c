import { checkName, type NameRule } from '../names';
import { GROUP_MAX_LENGTH, TOPIC_MAX_LENGTH, TOPIC_PATTERN } from './constants';

/** RocketMQ's topic rule (`TopicValidator`): `^[%|a-zA-Z0-9_-]+$`, at most 127 characters. */
export const TOPIC_RULE: NameRule = {
  kind: 'topic',
  pattern: TOPIC_PATTERN,
  maxLength: TOPIC_MAX_LENGTH,
  description: 'letters, digits, %, |, _ and -, at most 127 characters',
};

/** Group names: the same characters, at most 255. */
export const GROUP_RULE: NameRule = {
  kind: 'group',
  pattern: TOPIC_PATTERN,
  maxLength: GROUP_MAX_LENGTH,
  description: 'letters, digits, %, |, _ and -, at most 255 characters',
};

export function checkTopic(topic: unknown): string {
  return checkName(TOPIC_RULE, topic);
}

export function checkGroup(group: unknown): string {
  return checkName(GROUP_RULE, group);
}
