/**
 * Shared plumbing for the real-broker benchmarks (bench/peers.ts): where the peers' jars are,
 * running one Java tool bounded in time, checking a broker answers, message count per run.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import { join, resolve } from 'node:path';
import { MqlabError } from '../../core/errors';

export const PEERS_DIR = resolve(__dirname, '../../peers');
export const PEERS_WORK = process.env.MQLAB_PEERS_WORK ?? join(PEERS_DIR, '.work');
export const MESSAGE_BYTES = 100;

/** Messages per run of a broker's own tool, and per run through mqlab's adapters. */
export function peerCounts(quick: boolean): { tool: number; adapter: number } {
  return quick ? { tool: 20_000, adapter: 5_000 } : { tool: 100_000, adapter: 20_000 };
}

export function portOpen(port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((done) => {
    const s = connect({ host: '127.0.0.1', port });
    const end = (ok: boolean): void => { s.destroy(); done(ok); };
    s.setTimeout(timeoutMs, () => end(false));
    s.once('connect', () => end(true));
    s.once('error', () => end(false));
  });
}

/** Runs a command, resolves with stdout + stderr; rejects (ERR_PEER_TOOL) on exit != 0 or after `timeoutMs`. */
export function runTool(cmd: string, args: readonly string[], timeoutMs: number, cwd?: string): Promise<string> {
  return new Promise((done, fail) => {
    execFile(cmd, [...args], { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024, killSignal: 'SIGKILL', ...(cwd ? { cwd } : {}) }, (err, stdout, stderr) => {
      const out = `${stdout}\n${stderr}`;
      if (err) fail(new MqlabError('ERR_PEER_TOOL', `${cmd} ${args.slice(-6).join(' ')} failed: ${err.message.split('\n')[0]} | ${out.trim().split('\n').slice(-3).join(' | ')}`));
      else done(out);
    });
  });
}

/** `peers/.work/<peer>/<dir>`, resolved through peers/lib.sh's Maven copy when `pom` is given and the jars are missing. */
export async function peerLib(peer: string, dir: string, pom?: string): Promise<string> {
  const lib = join(PEERS_WORK, peer, dir);
  if (!existsSync(join(lib, '.resolved')) && pom) {
    await runTool('bash', ['-c', `source ${JSON.stringify(join(PEERS_DIR, 'lib.sh'))} && maven_copy ${JSON.stringify(join(PEERS_DIR, pom))} ${JSON.stringify(lib)}`], 300_000);
  }
  if (!existsSync(lib)) throw new MqlabError('ERR_PEER_TOOL', `${lib} is missing: start the broker once with peers/${peer}/start.sh (it resolves the jars)`);
  return lib;
}

/** Parses `key=value` pairs of a "RESULT ..." line. */
export function resultFields(out: string, tag: string): Record<string, number> {
  const line = out.split('\n').find((l) => l.startsWith(`RESULT ${tag}`));
  if (!line) throw new MqlabError('ERR_PEER_TOOL', `no "RESULT ${tag}" line in the tool's output: ${out.trim().split('\n').slice(-3).join(' | ')}`);
  const out2: Record<string, number> = {};
  for (const m of line.matchAll(/(\w+)=([\d.]+)/g)) out2[m[1]!] = Number(m[2]);
  return out2;
}

export function uniqueName(prefix: string): string {
  return `${prefix}${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
}
