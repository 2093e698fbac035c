/**
 * Loads OpenMessaging-Benchmark-style workload YAML strictly: every field is known and checked,
 * and a mistake is reported as `file:line:col: field "x" ...` (MqlabError ERR_WORKLOAD with
 * file, line and field in details), so a typo never silently runs a different benchmark.
 *
 * OMB fields: name, topics, partitionsPerTopic, messageSize, producersPerTopic,
 * subscriptionsPerTopic, consumerPerSubscription, producerRate (0 = as fast as possible),
 * testDurationMinutes, warmupDurationMinutes, keyDistributor, payloadFile (accepted, the payload
 * is generated at messageSize), consumerBacklogSizeGB (only 0).
 * mqlab fields: model, description, messageCount, and per model:
 *   kafka: acks (0 | 1 | all | -1);  rabbitmq: ackMode (auto | manual), prefetch, confirms,
 *   exchangeType;  rocketmq: messageModel (CLUSTERING | BROADCASTING).
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { LineCounter, isMap, isScalar, parseDocument, type Node, type Pair } from 'yaml';
import { MqlabError } from '../../core/errors';
import type { KeyDistributor, Workload } from './driver';

type Model = Workload['model'];
const MODELS: readonly Model[] = ['kafka', 'rabbitmq', 'rocketmq', 'noop'];

type FieldCheck = (value: unknown) => string | undefined;

const positiveInt = (max: number): FieldCheck => (v) =>
  typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= max ? undefined : `must be an integer from 1 to ${max}`;
const nonNegative = (max: number): FieldCheck => (v) =>
  typeof v === 'number' && Number.isFinite(v) && v >= 0 && v <= max ? undefined : `must be a number from 0 to ${max}`;
const oneOf = (values: readonly unknown[]): FieldCheck => (v) =>
  values.includes(v) ? undefined : `must be one of ${values.map((x) => JSON.stringify(x)).join(', ')}`;
const isString: FieldCheck = (v) => (typeof v === 'string' && v.length > 0 && v.length <= 500 ? undefined : 'must be a non-empty string');
const isBool: FieldCheck = (v) => (typeof v === 'boolean' ? undefined : 'must be true or false');

interface FieldSpec { check: FieldCheck; model?: Model }

const FIELDS: Record<string, FieldSpec> = {
  name: { check: isString },
  description: { check: isString },
  model: { check: oneOf(MODELS) },
  topics: { check: positiveInt(1000) },
  partitionsPerTopic: { check: positiveInt(10_000) },
  messageSize: { check: positiveInt(64 * 1024 * 1024) },
  producersPerTopic: { check: positiveInt(64) },
  subscriptionsPerTopic: { check: positiveInt(64) },
  consumerPerSubscription: { check: positiveInt(64) },
  producerRate: { check: nonNegative(100_000_000) },
  testDurationMinutes: { check: (v) => (typeof v === 'number' && v > 0 && v <= 24 * 60 ? undefined : 'must be a number of minutes above 0 (at most 1440)') },
  warmupDurationMinutes: { check: nonNegative(60) },
  messageCount: { check: positiveInt(10_000_000_000) },
  keyDistributor: { check: oneOf(['NO_KEY', 'KEY_ROUND_ROBIN', 'RANDOM_NANO']) },
  payloadFile: { check: isString },
  consumerBacklogSizeGB: { check: (v) => (v === 0 ? undefined : 'must be 0 (backlog drain tests are not supported)') },
  acks: { check: oneOf([0, 1, 'all', -1]), model: 'kafka' },
  ackMode: { check: oneOf(['auto', 'manual']), model: 'rabbitmq' },
  prefetch: { check: positiveInt(65_535), model: 'rabbitmq' },
  confirms: { check: isBool, model: 'rabbitmq' },
  exchangeType: { check: oneOf(['direct', 'fanout', 'topic', 'headers']), model: 'rabbitmq' },
  messageModel: { check: oneOf(['CLUSTERING', 'BROADCASTING']), model: 'rocketmq' },
};

const REQUIRED = ['topics', 'partitionsPerTopic', 'messageSize', 'producersPerTopic', 'subscriptionsPerTopic', 'consumerPerSubscription', 'producerRate'];

function fail(file: string, lc: LineCounter, node: Node | null | undefined, field: string | undefined, why: string): MqlabError {
  const pos = node?.range ? lc.linePos(node.range[0]) : { line: 1, col: 1 };
  const where = `${file}:${pos.line}:${pos.col}`;
  return new MqlabError('ERR_WORKLOAD', field ? `${where}: field "${field}" ${why}` : `${where}: ${why}`, { file, line: pos.line, col: pos.col, field });
}

/** The model a file name implies (`kafka-…yaml` → kafka), used when the file has no `model:`. */
export function modelFromFileName(file: string): Model | undefined {
  const stem = basename(file).toLowerCase();
  return MODELS.find((m) => stem.startsWith(`${m}-`));
}

/** Parse workload YAML text; `file` is used in messages. `defaultModel` applies when the file names none. */
export function parseWorkload(text: string, file: string, defaultModel?: Model): Workload {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    const pos = lc.linePos(e.pos[0]);
    throw new MqlabError('ERR_WORKLOAD', `${file}:${pos.line}:${pos.col}: invalid YAML: ${e.message.split('\n')[0]}`, { file, line: pos.line, col: pos.col });
  }
  const root = doc.contents;
  if (!isMap(root)) throw fail(file, lc, root as Node | null, undefined, 'a workload must be a YAML mapping of fields');

  const values: Record<string, unknown> = {};
  const nodes: Record<string, Node> = {};
  for (const item of root.items as Pair<unknown, unknown>[]) {
    const keyNode = item.key as Node;
    const key = isScalar(keyNode) ? keyNode.value : undefined;
    if (typeof key !== 'string') throw fail(file, lc, keyNode, undefined, 'field names must be plain strings');
    const spec = FIELDS[key];
    if (!spec) {
      const known = Object.keys(FIELDS).join(', ');
      throw fail(file, lc, keyNode, key, `is not a known workload field (known: ${known})`);
    }
    const valueNode = item.value as Node | null;
    if (!isScalar(valueNode)) throw fail(file, lc, valueNode ?? keyNode, key, 'must be a single value');
    const why = spec.check(valueNode.value);
    if (why) throw fail(file, lc, valueNode, key, `${why} (got ${JSON.stringify(valueNode.value)})`);
    values[key] = valueNode.value;
    nodes[key] = keyNode;
  }

  for (const r of REQUIRED) if (!(r in values)) throw fail(file, lc, root, r, 'is required');
  if (!('testDurationMinutes' in values) && !('messageCount' in values)) throw fail(file, lc, root, 'testDurationMinutes', 'or messageCount is required');

  const model = (values.model as Model | undefined) ?? defaultModel ?? modelFromFileName(file);
  if (!model) throw fail(file, lc, root, 'model', `is required (one of ${MODELS.join(', ')}) when the file name does not start with the model`);
  for (const [key, spec] of Object.entries(FIELDS)) {
    if (spec.model && key in values && spec.model !== model) throw fail(file, lc, nodes[key], key, `applies to model ${spec.model} only (this workload is ${model})`);
  }

  const acks = values.acks === -1 ? 'all' : (values.acks as Workload['acks']);
  const stem = basename(file).replace(/\.ya?ml$/i, '');
  const w: Workload = {
    name: (values.name as string | undefined) ?? stem,
    model,
    topics: values.topics as number,
    partitionsPerTopic: values.partitionsPerTopic as number,
    messageSize: values.messageSize as number,
    producersPerTopic: values.producersPerTopic as number,
    subscriptionsPerTopic: values.subscriptionsPerTopic as number,
    consumerPerSubscription: values.consumerPerSubscription as number,
    producerRate: values.producerRate as number,
    keyDistributor: (values.keyDistributor as KeyDistributor | undefined) ?? 'NO_KEY',
    testDurationMinutes: (values.testDurationMinutes as number | undefined) ?? 60,
    warmupDurationMinutes: (values.warmupDurationMinutes as number | undefined) ?? 0,
  };
  if (values.messageCount !== undefined) w.messageCount = values.messageCount as number;
  if (values.description !== undefined) w.description = values.description as string;
  if (acks !== undefined) w.acks = acks;
  if (values.ackMode !== undefined) w.ackMode = values.ackMode as 'auto' | 'manual';
  if (values.prefetch !== undefined) w.prefetch = values.prefetch as number;
  if (values.confirms !== undefined) w.confirms = values.confirms as boolean;
  if (values.exchangeType !== undefined) w.exchangeType = values.exchangeType as Workload['exchangeType'];
  if (values.messageModel !== undefined) w.messageModel = values.messageModel as Workload['messageModel'];
  if (w.warmupDurationMinutes >= w.testDurationMinutes && values.testDurationMinutes !== undefined) {
    throw fail(file, lc, nodes.warmupDurationMinutes, 'warmupDurationMinutes', 'must be shorter than testDurationMinutes');
  }
  return w;
}

/** Read and parse a workload file; a missing or unreadable file is an ERR_WORKLOAD naming it. */
export function loadWorkload(file: string, defaultModel?: Model): Workload {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new MqlabError('ERR_WORKLOAD', `${file}: cannot read workload file: ${(e as Error).message}`, { file });
  }
  return parseWorkload(text, file, defaultModel);
}
