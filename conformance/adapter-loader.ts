/**
 * Turns the `--adapter` argument into a checked adapter factory:
 *  - `builtin`  -> conformance/adapters/builtin/<model>.ts (the in-process engines)
 *  - `memory`   -> conformance/adapters/memory/<model>.ts (the documented example adapters)
 *  - a URL      -> conformance/adapters/real/<model>.ts with `options.url` (kafka://, amqp://,
 *                  amqps://, rocketmq://; the scheme must match the model)
 *  - a path     -> that module (TypeScript or JavaScript) exporting createAdapter(options)
 * Every problem is an MqlabError ERR_ADAPTER with the reason; creation is bounded by the connect
 * timeout, so an unreachable broker or a hanging factory fails instead of hanging.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { MqlabError } from '../core/errors';
import type { AdapterOptions, ModelName } from './adapters/common';
import { assertAdapter, assertAdapterModule, type AdapterFor } from './adapters/guard';
import { withTimeout } from './suites/framework/timeout';

const URL_SCHEMES: Record<ModelName, readonly string[]> = {
  kafka: ['kafka:'],
  rabbitmq: ['amqp:', 'amqps:'],
  rocketmq: ['rocketmq:'],
};

export interface ResolvedAdapter {
  /** What the user typed. */
  spec: string;
  /** The module file. */
  modulePath: string;
  /** Options for createAdapter (url for real brokers). */
  options: AdapterOptions;
}

function adapterError(message: string, details?: Record<string, unknown>): MqlabError {
  return new MqlabError('ERR_ADAPTER', message, details);
}

function firstExisting(base: string): string | undefined {
  for (const ext of ['.ts', '.js']) if (fs.existsSync(base + ext)) return base + ext;
  return undefined;
}

export function resolveAdapter(model: ModelName, spec: string, adaptersDir = path.join(__dirname, 'adapters')): ResolvedAdapter {
  if (spec === 'builtin' || spec === 'memory') {
    const file = firstExisting(path.join(adaptersDir, spec, model));
    if (!file) throw adapterError(`the ${spec} adapter for ${model} is not available: ${path.relative(process.cwd(), path.join(adaptersDir, spec, model))}.ts does not exist`);
    return { spec, modulePath: file, options: {} };
  }
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(spec);
  if (scheme) {
    let url: URL;
    try {
      url = new URL(spec);
    } catch {
      throw adapterError(`malformed broker URL ${JSON.stringify(spec)}`);
    }
    if (!URL_SCHEMES[model].includes(url.protocol)) {
      throw adapterError(`URL scheme ${url.protocol}// does not fit model ${model} (expected ${URL_SCHEMES[model].map((s) => s + '//').join(' or ')})`);
    }
    const file = firstExisting(path.join(adaptersDir, 'real', model));
    if (!file) throw adapterError(`no real-broker adapter for ${model}: conformance/adapters/real/${model}.ts does not exist`);
    return { spec, modulePath: file, options: { url: spec } };
  }
  const file = path.resolve(spec);
  if (!fs.existsSync(file) || !fs.statSync(file).isFile()) throw adapterError(`adapter module ${spec} not found (expected builtin, memory, a broker URL or a path to a module)`);
  return { spec, modulePath: file, options: {} };
}

export async function importAdapterModule(file: string): Promise<unknown> {
  try {
    if (file.endsWith('.mjs')) return await import(pathToFileURL(file).href);
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require(file);
  } catch (e) {
    throw adapterError(`adapter module ${file} failed to load: ${(e as Error).message.split('\n')[0]}`, { path: file });
  }
}

/** Loads, checks and instantiates an adapter; `connectMs` bounds createAdapter. */
export async function createCheckedAdapter<M extends ModelName>(model: M, resolved: ResolvedAdapter, options: AdapterOptions, connectMs: number): Promise<AdapterFor[M]> {
  const mod = assertAdapterModule(await importAdapterModule(resolved.modulePath), resolved.spec);
  let raw: unknown;
  try {
    raw = await withTimeout(() => mod.createAdapter({ ...resolved.options, ...options }), connectMs, `createAdapter (${resolved.spec})`);
  } catch (e) {
    const why = (e as Error).message;
    throw adapterError(`adapter ${resolved.spec} could not be created${resolved.options.url ? ` (is the broker at ${resolved.options.url} reachable?)` : ''}: ${why}`, { cause: (e as { code?: string }).code });
  }
  return assertAdapter(model, raw, resolved.spec);
}
