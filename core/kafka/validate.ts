import { describeValue, Errors } from '../errors';
import type { TopicPartition } from './types';

/**
 * Argument shape checks for the Kafka engine's public methods, so a wrong type (a non-array where a
 * list is expected, a missing or non-object argument) is an ERR_INVALID_ARG naming the argument, not
 * a TypeError from deep inside. Values (topic names, partitions, offsets) are checked where they are
 * used, with Kafka's error names.
 */

/** An options object: undefined gives {}; anything else must be a non-null, non-array object. */
export function optionsArg<T extends object>(value: T | undefined, what: string): T {
  if (value === undefined) return {} as T;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw Errors.invalidArg(what, `an options object, got ${describeValue(value)}`);
  return value;
}

/**
 * A list argument: a plain array (a typed array or a single object is not a list of partitions).
 * Returned dense (holes of a sparse array become undefined) so map/for-of see every slot and the
 * element checks reject the holes.
 */
export function listArg<T>(value: readonly T[] | undefined, what: string): T[] {
  if (!Array.isArray(value)) throw Errors.invalidArg(what, `an array, got ${describeValue(value)}`);
  return Array.from(value);
}

/** A { topic, partition } object (its fields are checked by the topic lookup). */
export function topicPartitionArg<T extends TopicPartition>(value: T | undefined, what: string): T {
  if (value === null || typeof value !== 'object' || Array.isArray(value) || ArrayBuffer.isView(value)) {
    throw Errors.invalidArg(what, `an object { topic, partition }, got ${describeValue(value)}`);
  }
  return value;
}
