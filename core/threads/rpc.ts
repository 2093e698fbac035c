/**
 * A small request/response bridge over a MessagePort, so producers and consumers on worker
 * threads can drive an engine that lives on another thread.
 *
 *   host thread:    const stop = serveRpc(port1, engine);
 *   worker thread:  const engine = connectRpc<KafkaEngine>(port2); await engine.createTopic(...)
 *
 * Every call is one message each way (structured clone; a Buffer arrives as a Uint8Array).
 * Errors cross the bridge as MqlabError with their code, message and details intact
 * (wire-error.ts); a thrown value without a code arrives as ERR_REMOTE, and a result that cannot
 * be cloned as ERR_INVALID_ARG. Only public methods are callable: names starting with `_`,
 * `constructor` and non-functions are refused.
 * The host can also push events (`emit`) that the client sees through `on(event, handler)`,
 * which is how push-style consumers receive deliveries from another thread.
 */
import type { MessagePort } from 'node:worker_threads';
import { MqlabError } from '../errors';
import { describeValue } from '../describe-value';
import { fromWireError, toWireError, type WireError } from './wire-error';

interface CallMessage { kind: 'call'; id: number; method: string; args: unknown[] }
interface ReplyMessage { kind: 'reply'; id: number; ok: boolean; value?: unknown; error?: WireError }
interface EventMessage { kind: 'event'; event: string; payload: unknown }
type WireMessage = CallMessage | ReplyMessage | EventMessage;

function isCallable(target: object, method: string): boolean {
  if (method.startsWith('_') || method === 'constructor') return false;
  return typeof (target as Record<string, unknown>)[method] === 'function';
}

export interface RpcServer {
  /** Push an event to the connected client (delivered to its `on(event)` handlers). */
  emit(event: string, payload: unknown, transfer?: ArrayBuffer[]): void;
  /** Stop answering and close the port. */
  close(): void;
}

/** Answer calls arriving on `port` by invoking the same-named method of `target`. */
export function serveRpc(port: MessagePort, target: object): RpcServer {
  let closed = false;
  port.on('message', (msg: WireMessage) => {
    if (closed || msg === null || typeof msg !== 'object' || msg.kind !== 'call') return;
    const { id, method, args } = msg;
    const reply = (r: Omit<ReplyMessage, 'kind' | 'id'>) => {
      if (closed) return;
      try {
        port.postMessage({ kind: 'reply', id, ...r } satisfies ReplyMessage);
      } catch (e) {
        // A result that cannot be cloned: the caller gets a typed error instead of no reply.
        const error = { code: 'ERR_INVALID_ARG', message: `the result of ${method} cannot be sent to another thread: ${(e as Error).message}` };
        port.postMessage({ kind: 'reply', id, ok: false, error } satisfies ReplyMessage);
      }
    };
    if (typeof method !== 'string' || !isCallable(target, method) || !Array.isArray(args)) {
      reply({ ok: false, error: { code: 'ERR_INVALID_ARG', message: `no callable method ${describeValue(method)} on the served object` } });
      return;
    }
    let result: unknown;
    try {
      result = (target as Record<string, (...a: unknown[]) => unknown>)[method]!(...args);
    } catch (e) {
      reply({ ok: false, error: toWireError(e, 'ERR_REMOTE') });
      return;
    }
    Promise.resolve(result).then(
      (value) => reply({ ok: true, value }),
      (e) => reply({ ok: false, error: toWireError(e, 'ERR_REMOTE') }),
    );
  });
  return {
    emit(event, payload, transfer) {
      if (!closed) port.postMessage({ kind: 'event', event, payload } satisfies EventMessage, transfer ?? []);
    },
    close() {
      closed = true;
      port.close();
    },
  };
}

type AnyFn = (...args: any[]) => any;
/** The async view of T that a worker sees: every method returns a promise. */
export type Remote<T> = {
  [K in keyof T as T[K] extends AnyFn ? (K extends `_${string}` ? never : K) : never]: T[K] extends (...a: infer A) => infer R
    ? (...a: A) => Promise<Awaited<R>>
    : never;
};

export interface RpcClientControls {
  on(event: string, handler: (payload: unknown) => void): void;
  off(event: string, handler: (payload: unknown) => void): void;
  /** Reject pending calls and close the port. */
  close(): void;
}

export interface ConnectOptions {
  /** Per-call timeout (ms); a call with no reply by then rejects with ERR_TIMEOUT. Default 30 s; 0 = none. */
  timeoutMs?: number;
}

/**
 * A proxy whose methods send calls over `port`. Also carries `$rpc` controls (events, close);
 * the `$` keeps it from colliding with the target's own method names.
 */
export function connectRpc<T extends object>(port: MessagePort, options: ConnectOptions = {}): Remote<T> & { $rpc: RpcClientControls } {
  const timeoutMs = options.timeoutMs ?? 30_000;
  if (!Number.isInteger(timeoutMs) || timeoutMs < 0) {
    throw new MqlabError('ERR_INVALID_ARG', 'options.timeoutMs must be a non-negative integer');
  }
  let nextId = 1;
  let closed = false;
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void; timer?: NodeJS.Timeout }>();
  const handlers = new Map<string, Set<(payload: unknown) => void>>();
  port.unref();

  const settle = (id: number) => {
    const p = pending.get(id);
    if (!p) return undefined;
    pending.delete(id);
    if (p.timer) clearTimeout(p.timer);
    if (pending.size === 0 && handlers.size === 0) port.unref();
    return p;
  };

  port.on('message', (msg: WireMessage) => {
    if (msg === null || typeof msg !== 'object') return;
    if (msg.kind === 'reply') {
      const p = settle(msg.id);
      if (!p) return;
      if (msg.ok) p.resolve(msg.value);
      else p.reject(fromWireError(msg.error?.code !== undefined ? msg.error : { code: 'ERR_REMOTE', message: msg.error?.message ?? 'remote call failed' }));
    } else if (msg.kind === 'event') {
      for (const h of handlers.get(msg.event) ?? []) h(msg.payload);
    }
  });
  port.on('close', () => {
    closed = true;
    for (const id of [...pending.keys()]) settle(id)?.reject(new MqlabError('ERR_CLOSED', 'the RPC port closed before the reply'));
  });

  const call = (method: string, args: unknown[]): Promise<unknown> => {
    if (closed) return Promise.reject(new MqlabError('ERR_CLOSED', `RPC connection is closed (calling ${method})`));
    const id = nextId++;
    return new Promise((resolve, reject) => {
      const entry: { resolve: (v: unknown) => void; reject: (e: Error) => void; timer?: NodeJS.Timeout } = { resolve, reject };
      if (timeoutMs > 0) {
        entry.timer = setTimeout(() => {
          settle(id);
          reject(new MqlabError('ERR_TIMEOUT', `RPC call ${method} had no reply within ${timeoutMs} ms`));
        }, timeoutMs);
      }
      if (pending.size === 0) port.ref();
      pending.set(id, entry);
      try {
        port.postMessage({ kind: 'call', id, method, args } satisfies CallMessage);
      } catch (e) {
        settle(id);
        reject(new MqlabError('ERR_INVALID_ARG', `arguments of ${method} cannot be sent to another thread: ${(e as Error).message}`));
      }
    });
  };

  const controls: RpcClientControls = {
    on(event, handler) {
      if (!handlers.has(event)) handlers.set(event, new Set());
      handlers.get(event)!.add(handler);
      port.ref();
    },
    off(event, handler) {
      handlers.get(event)?.delete(handler);
      if (handlers.get(event)?.size === 0) handlers.delete(event);
      if (pending.size === 0 && handlers.size === 0) port.unref();
    },
    close() {
      if (closed) return;
      closed = true;
      for (const id of [...pending.keys()]) settle(id)?.reject(new MqlabError('ERR_CLOSED', 'RPC connection closed'));
      port.close();
    },
  };

  return new Proxy({} as Remote<T> & { $rpc: RpcClientControls }, {
    get(_t, prop) {
      if (prop === '$rpc') return controls;
      if (typeof prop !== 'string' || prop === 'then') return undefined; // not a thenable
      return (...args: unknown[]) => call(prop, args);
    },
  });
}
