import { describeValue } from '../describe-value';
import { isMqlabError, MqlabError } from '../errors';

/**
 * The errors the engine raises when its storage fails, typed with the storage core's codes
 * (ERR_NO_SPACE, ERR_IO …) so a caller can tell a full disk from a bad call.
 */

/**
 * A store write failed: the storage core's error itself; a file-system error (from creating a
 * queue's directory or CURRENT file) as ERR_NO_SPACE for ENOSPC / EDQUOT and ERR_IO otherwise.
 */
export function asStoreError(e: unknown): MqlabError {
  if (isMqlabError(e)) return e;
  const errno = (e as { code?: unknown } | null)?.code;
  const code = errno === 'ENOSPC' || errno === 'EDQUOT' ? 'ERR_NO_SPACE' : 'ERR_IO';
  const message = `queue store write failed: ${e instanceof Error ? e.message : describeValue(e)}`;
  return new MqlabError(code, message, typeof errno === 'string' ? { errno } : undefined);
}

/**
 * A declaration, deletion or binding change could not be written to the durable definitions (or
 * its queue's files could not be created): `what` did not happen. Keeps the storage error's code
 * and details, adds what was being done (`details.operation`) and the entity, and says it in
 * words, e.g. "cannot declare queue 'jobs': no space left on the device (…)".
 */
export function definitionWriteFailed(what: string, entity: Record<string, unknown>, e: unknown): MqlabError {
  const cause = asStoreError(e);
  const why = cause.code === 'ERR_NO_SPACE' ? 'no space left on the device' : 'the durable definitions could not be written';
  return new MqlabError(cause.code, `cannot ${what}: ${why} (${cause.message})`, {
    ...cause.details,
    operation: what,
    ...entity,
  });
}
