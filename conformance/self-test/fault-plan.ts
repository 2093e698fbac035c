/**
 * Which fault a faulty adapter injects, and which message it hits. A fault hits a message by a
 * hash of its id (every `every`-th, deterministic), so one seed always breaks the same
 * messages and the self-test is reproducible.
 */
import { MqlabError } from '../../core/errors';
import type { AdapterOptions } from '../adapters/common';

export function hits(id: string, every: number): boolean {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 0x01000193);
  return (h >>> 0) % every === 0;
}

/** Reads `params.fault` (from `--adapter-option fault=NAME`) and checks it is one of `known`. */
export function faultOf<F extends string>(options: AdapterOptions, known: readonly F[]): F {
  const f = options.params?.fault;
  if (!f || !known.includes(f as F)) throw new MqlabError('ERR_ADAPTER', `faulty adapter needs --adapter-option fault=<${known.join('|')}>, got ${JSON.stringify(f)}`);
  return f as F;
}
