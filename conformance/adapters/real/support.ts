/**
 * Small pieces every real-broker adapter shares: broker URLs, the "broker not reachable" error,
 * per-call deadlines, and body conversion.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MqlabError } from '../../../core/errors';
import type { Body } from '../common';

export interface BrokerAddress {
  host: string;
  port: number;
  /** As the user wrote it, for error messages (kafka://127.0.0.1:9092). */
  url: string;
}

/** Parses `scheme://host[:port]`; a bare `host:port` is accepted too. */
export function parseBrokerUrl(url: string | undefined, schemes: readonly string[], defaultPort: number): BrokerAddress {
  const text = url ?? `${schemes[0]}://127.0.0.1:${defaultPort}`;
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `${schemes[0]}://${text}`;
  let parsed: URL;
  try {
    parsed = new URL(withScheme);
  } catch {
    throw new MqlabError('ERR_INVALID_ARG', `adapter url ${JSON.stringify(text)} is not a URL like ${schemes[0]}://127.0.0.1:${defaultPort}`);
  }
  const scheme = parsed.protocol.replace(/:$/, '');
  if (!schemes.includes(scheme)) {
    throw new MqlabError('ERR_INVALID_ARG', `adapter url ${JSON.stringify(text)} must start with ${schemes.map((s) => s + '://').join(' or ')}`);
  }
  const port = parsed.port === '' ? defaultPort : Number(parsed.port);
  if (!parsed.hostname || !Number.isInteger(port) || port <= 0 || port > 65535) {
    throw new MqlabError('ERR_INVALID_ARG', `adapter url ${JSON.stringify(text)} needs a host and a port 1..65535`);
  }
  return { host: parsed.hostname.replace(/^\[|\]$/g, ''), port, url: `${scheme}://${parsed.hostname}:${port}` };
}

/** The error every real adapter throws when its broker does not answer. */
export function brokerUnreachable(broker: string, address: BrokerAddress, cause: unknown): MqlabError {
  const why = cause instanceof Error ? cause.message : String(cause);
  return new MqlabError(
    'ERR_BROKER_UNREACHABLE',
    `${broker} at ${address.url} is not reachable (${why}); start it with peers/${broker.toLowerCase()}/start.sh`,
    { broker, address: address.url },
  );
}

/**
 * Rejects with ERR_TIMEOUT if `work` has not settled after `ms`; the caller's resource is not
 * cancelled, only no longer waited for (the adapter closes it on `close()`).
 */
export function withDeadline<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new MqlabError('ERR_TIMEOUT', `${what} did not complete within ${ms} ms`, { timeoutMs: ms })), ms);
    timer.unref?.();
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}

export function toBuffer(body: Body | null | undefined): Buffer {
  if (body === undefined || body === null) return Buffer.alloc(0);
  if (typeof body === 'string') return Buffer.from(body, 'utf8');
  return Buffer.from(body.buffer, body.byteOffset, body.byteLength);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** peers/ next to conformance/ (the scripts that start the real brokers on loopback). */
export const PEERS_DIR = join(__dirname, '../../../peers');
const PEERS_WORK = process.env.MQLAB_PEERS_WORK ?? join(PEERS_DIR, '.work');

/**
 * True when the broker at `address` is the one a peers/ script started here (its pid file names
 * a live process and the address is loopback), so the adapter may restart it with that script.
 */
export function isLocalPeer(peer: 'kafka' | 'rabbitmq' | 'rocketmq', address: BrokerAddress): boolean {
  const pidFile = join(PEERS_WORK, peer, peer === 'rabbitmq' ? 'server.pid' : peer === 'kafka' ? 'kafka.pid' : 'broker.pid');
  if (!['127.0.0.1', 'localhost'].includes(address.host) || !existsSync(pidFile)) return false;
  try {
    process.kill(Number(readFileSync(pidFile, 'utf8').trim()), 0);
    return true;
  } catch {
    return false;
  }
}

/** Runs peers/<peer>/restart.sh (stop, then start on the same data), bounded in time. */
export function restartPeer(peer: 'kafka' | 'rabbitmq' | 'rocketmq', timeoutMs = 120_000): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile('bash', [join(PEERS_DIR, peer, 'restart.sh')], { timeout: timeoutMs }, (err, _out, stderr) => {
      if (err) reject(new MqlabError('ERR_BROKER', `restarting ${peer} failed: ${String(stderr || err.message).trim().split('\n').slice(-3).join(' | ')}`));
      else resolve();
    });
  });
}
