import { Errors } from './errors';

/**
 * Names that come from users (topics, queues, groups) may become file or directory names.
 * This is the one gate they pass through: a name is accepted only if it matches `pattern`, is
 * within `maxLength`, and is not `.` or `..`, so it can never reach outside the data directory.
 */
export interface NameRule {
  kind: string;
  pattern: RegExp;
  maxLength: number;
  description: string;
}

export function checkName(rule: NameRule, name: unknown): string {
  if (typeof name !== 'string') throw Errors.badName(rule.kind, name, 'must be a string');
  if (name.length === 0) throw Errors.badName(rule.kind, name, 'must not be empty');
  if (name.length > rule.maxLength) throw Errors.badName(rule.kind, name, `longer than ${rule.maxLength} characters`);
  if (name === '.' || name === '..') throw Errors.badName(rule.kind, name, 'is a path component');
  if (!rule.pattern.test(name)) throw Errors.badName(rule.kind, name, `allowed: ${rule.description}`);
  return name;
}

/**
 * Map any accepted name to a file-system-safe directory name. Names that are already safe
 * stay readable; others (e.g. RocketMQ's `%RETRY%group`) are hex-escaped byte by byte.
 */
export function fileNameFor(name: string): string {
  if (/^[A-Za-z0-9_-][A-Za-z0-9._-]*$/.test(name) && name !== '.' && name !== '..') return name;
  return '%' + Buffer.from(name, 'utf8').toString('hex');
}
