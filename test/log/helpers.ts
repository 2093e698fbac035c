/** Shared helpers for the storage-core tests: temporary directories and error assertions. */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { isMqlabError } from '../../core/errors';

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `mqlab-${prefix}-`));
}

export function removeDir(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
}

/** Runs fn and returns the MqlabError code it threw, or 'no error'. Other errors are rethrown. */
export function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (isMqlabError(e)) return e.code;
    throw e;
  }
  return 'no error';
}

export function payloadFor(i: number, size = 20): Buffer {
  const b = Buffer.alloc(size);
  b.write(`record-${i}-`.padEnd(size, String.fromCharCode(97 + (i % 26))).slice(0, size));
  return b;
}

/**
 * A record that names its writer and its sequence number, as "w<writer>:<seq>:" then a fill byte
 * derived from both. Most are 20-330 bytes; every 97th is 33-36 KiB, over the 32 KiB frame limit
 * of a 'chunked' handle, so those take the ordered path. parseTagged inverts it.
 */
export function taggedPayload(writer: number, seq: number): Buffer {
  const size = seq % 97 === 96 ? 33 * 1024 + (seq * 131) % 3072 : 20 + (seq * 37 + writer * 11) % 310;
  const b = Buffer.alloc(size, (writer * 31 + seq) & 0xff);
  b.write(`w${writer}:${seq}:`);
  return b;
}

/** The (writer, seq) a taggedPayload names, or undefined if it does not start like one. */
export function parseTagged(payload: Buffer): { writer: number; seq: number } | undefined {
  const m = /^w(\d+):(\d+):/.exec(payload.subarray(0, 32).toString('latin1'));
  return m ? { writer: Number(m[1]), seq: Number(m[2]) } : undefined;
}

/**
 * A kill -9 trial's child: runs `node --import tsx ...args` and hands each stdout line to
 * `onLine`, which may call `killAfter(ms)` to SIGKILL the child that much later. Resolves when the
 * child dies of SIGKILL; rejects (with its stderr) if it exits any other way. A child that hangs
 * is killed after 60 s.
 */
export function runUntilKilled(args: string[], onLine: (line: string, killAfter: (ms: number) => void) => void,
  env: NodeJS.ProcessEnv = process.env): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env });
    const killAfter = (ms: number) => setTimeout(() => child.kill('SIGKILL'), ms);
    let buf = '';
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        onLine(line, killAfter);
      }
    });
    const guard = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(guard);
      if (signal !== 'SIGKILL') reject(new Error(`child exited ${code} ${signal}: ${stderr}`));
      else resolve();
    });
  });
}

/**
 * For a kill -9 trial's child: a function that writes lines to stdout, one write per event-loop
 * turn rather than one per line (the child reports thousands of confirmations a second).
 */
export function batchedStdout(): (lines: string) => void {
  let out = '';
  let queued = false;
  return (lines) => {
    out += lines;
    if (queued) return;
    queued = true;
    setImmediate(() => {
      queued = false;
      process.stdout.write(out);
      out = '';
    });
  };
}
