/**
 * One error class for all of mqlab. Every failure a user can cause carries a stable `code`
 * (a string CI scripts and adapters can switch on) and a message that says what to change.
 *
 * The native addon is handed this class at load time and throws it directly, so errors from
 * C++ and from TypeScript look the same to callers (better-sqlite3 does the same).
 *
 * Codes:
 *  - storage core: ERR_INVALID_ARG, ERR_RECORD_TOO_LARGE, ERR_OUT_OF_RANGE, ERR_CLOSED,
 *    ERR_LOCKED, ERR_CORRUPT, ERR_NO_SPACE, ERR_IO, ERR_BAD_NAME, ERR_READ_ONLY
 *  - models reuse their protocol's own names where one exists (Kafka error names such as
 *    UNKNOWN_TOPIC_OR_PARTITION, AMQP reply texts such as NOT_FOUND with `replyCode` in details,
 *    RocketMQ response codes), so a Kafka user recognises the Kafka engine's errors.
 */
import { describeValue } from './describe-value';

export { describeValue };

export class MqlabError extends Error {
  readonly code: string;
  readonly details: Readonly<Record<string, unknown>> | undefined;

  constructor(code: string, message: string, details?: Record<string, unknown>) {
    super(message);
    this.name = 'MqlabError';
    this.code = code;
    this.details = details;
  }

  toJSON(): { code: string; message: string; details?: Record<string, unknown> } {
    return this.details ? { code: this.code, message: this.message, details: { ...this.details } } : { code: this.code, message: this.message };
  }
}

export function isMqlabError(e: unknown, code?: string): e is MqlabError {
  return e instanceof MqlabError && (code === undefined || e.code === code);
}

/** Uniform argument-validation messages ("options.segmentBytes must be a positive integer"). */
export const Errors = {
  invalidArg: (what: string, expectation: string, details?: Record<string, unknown>) =>
    new MqlabError('ERR_INVALID_ARG', `${what} must be ${expectation}`, details),
  closed: (what: string) => new MqlabError('ERR_CLOSED', `${what} is closed`),
  badName: (kind: string, name: unknown, why: string) =>
    new MqlabError('ERR_BAD_NAME', `invalid ${kind} name ${describeValue(name)}: ${why}`, { kind }),
};
