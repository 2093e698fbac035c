/**
 * Runtime guard at the plug-in point: an adapter module comes from a path or URL the user typed,
 * so nothing about it is trusted until checked here. Each failure is an MqlabError with code
 * ERR_ADAPTER and a message that says what is missing, so `mqlab conform` can print it and exit.
 */
import { MqlabError } from '../../core/errors';
import { DELIVERY_GUARANTEES, MODEL_NAMES, type AdapterModule, type ModelName } from './common';
import type { BrokerAdapter } from './broker-model';
import type { LogAdapter } from './log-model';
import type { QueueAdapter } from './queue-model';

/** The adapter interface of each model. */
export interface AdapterFor {
  kafka: LogAdapter;
  rabbitmq: QueueAdapter;
  rocketmq: BrokerAdapter;
}
export type AnyAdapter = AdapterFor[ModelName];

/** Methods each model's adapter object must have (hooks that depend on capabilities are checked separately). */
const REQUIRED_METHODS: Record<ModelName, readonly string[]> = {
  kafka: ['createTopic', 'deleteTopic', 'offsets', 'producer', 'consumer', 'close'],
  rabbitmq: ['openChannel', 'close'],
  rocketmq: ['createTopic', 'route', 'producer', 'consumer', 'queryById', 'queryByKey', 'close'],
};

/** Hook method each common capability requires. */
const CAPABILITY_HOOKS: Record<string, string> = {
  'broker-restart': 'restartBroker',
  'virtual-time': 'advanceTime',
  'worker-threads': 'workerSpec',
};

function adapterError(where: string, what: string): MqlabError {
  return new MqlabError('ERR_ADAPTER', `adapter ${where}: ${what}`, { adapter: where });
}

/** Checks a loaded module exports `createAdapter` (directly or as the default export's member). */
export function assertAdapterModule(mod: unknown, where: string): AdapterModule<unknown> {
  if (mod === null || (typeof mod !== 'object' && typeof mod !== 'function')) throw adapterError(where, 'module did not load as an object');
  const m = mod as Record<string, unknown>;
  if (typeof m.createAdapter === 'function') return m as unknown as AdapterModule<unknown>;
  const d = m.default as Record<string, unknown> | undefined;
  if (d && typeof d === 'object' && typeof d.createAdapter === 'function') return d as unknown as AdapterModule<unknown>;
  throw adapterError(where, 'module must export a function createAdapter(options)');
}

/** Checks an object returned by `createAdapter` really is an adapter of `model`. */
export function assertAdapter<M extends ModelName>(model: M, adapter: unknown, where: string): AdapterFor[M] {
  if (adapter === null || typeof adapter !== 'object') throw adapterError(where, 'createAdapter must return an object');
  const a = adapter as Record<string, unknown>;
  const info = a.info as Record<string, unknown> | undefined;
  if (!info || typeof info !== 'object') throw adapterError(where, 'adapter.info is missing');
  if (!MODEL_NAMES.includes(info.model as ModelName)) throw adapterError(where, `adapter.info.model must be one of ${MODEL_NAMES.join(', ')}`);
  if (info.model !== model) throw adapterError(where, `adapter is for model ${String(info.model)}, not ${model}`);
  if (typeof info.name !== 'string' || info.name.length === 0) throw adapterError(where, 'adapter.info.name must be a non-empty string');
  if (!DELIVERY_GUARANTEES.includes(info.guarantee as never)) throw adapterError(where, `adapter.info.guarantee must be one of ${DELIVERY_GUARANTEES.join(', ')}`);
  if (info.quietMs !== undefined && !(typeof info.quietMs === 'number' && Number.isFinite(info.quietMs) && info.quietMs >= 0 && info.quietMs <= 600_000)) throw adapterError(where, 'adapter.info.quietMs must be a number of milliseconds in 0..600000');
  if (!Array.isArray(info.capabilities) || !info.capabilities.every((c) => typeof c === 'string')) throw adapterError(where, 'adapter.info.capabilities must be an array of strings');
  for (const method of REQUIRED_METHODS[model]) {
    if (typeof a[method] !== 'function') throw adapterError(where, `adapter.${method} must be a function (${model} model)`);
  }
  for (const cap of info.capabilities as string[]) {
    const hook = CAPABILITY_HOOKS[cap];
    if (hook && typeof a[hook] !== 'function') throw adapterError(where, `capability ${cap} is declared but adapter.${hook} is not a function`);
  }
  return adapter as AdapterFor[M];
}
