/**
 * A history file is JSON Lines:
 *
 *   line 1       {"format":"mqlab-history","version":1,"meta":{...}}
 *   lines 2..n   one Op per line, indexes 0, 1, 2, ... in order
 *   last line    {"end":true,"ops":<count>}
 *
 * The end line makes truncation at a line boundary detectable; every line is checked on read,
 * and any problem is an ERR_HISTORY error naming the file and the line number.
 */
import * as fs from 'node:fs';
import { MqlabError } from '../../core/errors';
import type { Op, OpType } from './ops';

export const HISTORY_FORMAT = 'mqlab-history';
export const HISTORY_VERSION = 1;

export interface HistoryFile {
  meta: Record<string, unknown>;
  ops: Op[];
}

/** Writes the history; the file appears complete or not at all (written to a temp name, renamed). */
export function writeHistory(path: string, ops: readonly Op[], meta: Record<string, unknown> = {}): void {
  const tmp = `${path}.${process.pid}.tmp`;
  const fd = fs.openSync(tmp, 'w');
  try {
    const chunk: string[] = [JSON.stringify({ format: HISTORY_FORMAT, version: HISTORY_VERSION, meta })];
    let size = 0;
    for (const op of ops) {
      const line = JSON.stringify(op);
      chunk.push(line);
      size += line.length;
      if (size > 1 << 20) {
        fs.writeSync(fd, chunk.join('\n') + '\n');
        chunk.length = 0;
        size = 0;
      }
    }
    chunk.push(JSON.stringify({ end: true, ops: ops.length }));
    fs.writeSync(fd, chunk.join('\n') + '\n');
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, path);
}

const OP_TYPES: ReadonlySet<string> = new Set<OpType>(['invoke', 'ok', 'fail', 'info']);

function historyError(path: string, line: number, why: string): MqlabError {
  return new MqlabError('ERR_HISTORY', `${path}:${line}: ${why}`, { path, line });
}

/** Parses history text; `path` is only used in error messages. */
export function parseHistory(text: string, path = '<history>'): HistoryFile {
  if (text.length === 0) throw historyError(path, 1, 'empty file (no header line)');
  const lines = text.split('\n');
  const lastEmpty = lines[lines.length - 1] === '';
  if (!lastEmpty) throw historyError(path, lines.length, 'truncated: the last line has no newline');
  lines.pop();
  const parse = (i: number): unknown => {
    try {
      return JSON.parse(lines[i]!);
    } catch {
      throw historyError(path, i + 1, 'corrupt: not valid JSON');
    }
  };
  const header = parse(0) as Record<string, unknown>;
  if (!header || header.format !== HISTORY_FORMAT) throw historyError(path, 1, `not an ${HISTORY_FORMAT} file (bad header)`);
  if (header.version !== HISTORY_VERSION) throw historyError(path, 1, `unsupported history version ${String(header.version)}`);
  const ops: Op[] = [];
  for (let i = 1; i < lines.length; i++) {
    const v = parse(i) as Record<string, unknown> | null;
    if (v === null || typeof v !== 'object' || Array.isArray(v)) throw historyError(path, i + 1, 'corrupt: a line must be a JSON object');
    if (v.end === true) {
      if (i !== lines.length - 1) throw historyError(path, i + 2, 'corrupt: data after the end line');
      if (v.ops !== ops.length) throw historyError(path, i + 1, `truncated: end line says ${String(v.ops)} operations, found ${ops.length}`);
      return { meta: (header.meta as Record<string, unknown>) ?? {}, ops };
    }
    if (v.index !== ops.length) throw historyError(path, i + 1, `corrupt: expected op index ${ops.length}, found ${JSON.stringify(v.index)}`);
    if (typeof v.time !== 'number' || typeof v.process !== 'string' || typeof v.f !== 'string' || !OP_TYPES.has(v.type as string)) {
      throw historyError(path, i + 1, 'corrupt: an op needs numeric time, string process and f, and type invoke|ok|fail|info');
    }
    ops.push(v as unknown as Op);
  }
  throw historyError(path, lines.length, 'truncated: no end line');
}

export function readHistory(path: string): HistoryFile {
  let text: string;
  try {
    text = fs.readFileSync(path, 'utf8');
  } catch (e) {
    throw new MqlabError('ERR_HISTORY', `cannot read history ${path}: ${(e as Error).message}`, { path });
  }
  return parseHistory(text, path);
}
