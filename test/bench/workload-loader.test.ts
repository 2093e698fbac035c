import t from 'tap';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { isMqlabError } from '../../core/errors';
import { parseWorkload, modelFromFileName } from '../../bench/drivers/workload-loader';
import { loadWorkload } from '../../bench/drivers/workload-loader';

const BASE = `topics: 1
partitionsPerTopic: 16
messageSize: 1024
producersPerTopic: 1
subscriptionsPerTopic: 1
consumerPerSubscription: 1
producerRate: 0
testDurationMinutes: 1
`;

function errorOf(fn: () => unknown): { message: string; details: Record<string, unknown> } {
  try {
    fn();
  } catch (e) {
    if (isMqlabError(e, 'ERR_WORKLOAD')) return { message: e.message, details: { ...e.details } };
    throw e;
  }
  throw new Error('expected an ERR_WORKLOAD error');
}

t.test('every default workload loads, and the set covers what the issue asks for', async (t) => {
  const dir = join(__dirname, '..', '..', 'bench', 'workloads');
  const all = readdirSync(dir).filter((f) => f.endsWith('.yaml')).map((f) => loadWorkload(join(dir, f)));
  t.ok(all.length >= 15, `${all.length} workloads`);
  for (const m of ['kafka', 'rabbitmq', 'rocketmq'] as const) {
    const mine = all.filter((w) => w.model === m);
    t.ok(mine.some((w) => w.producerRate === 0), `${m}: a max-throughput workload`);
    t.ok(mine.some((w) => w.producerRate > 0), `${m}: a fixed-rate latency workload`);
    t.ok(mine.some((w) => w.messageSize === 1024), `${m}: 1 KB`);
    t.ok(mine.some((w) => w.messageSize === 65536), `${m}: 64 KB`);
    t.ok(mine.some((w) => w.partitionsPerTopic >= 16), `${m}: many partitions/queues`);
  }
  t.ok(all.some((w) => w.ackMode === 'manual'), 'manual ack');
  t.ok(all.some((w) => w.messageModel === 'BROADCASTING' || w.exchangeType === 'fanout'), 'broadcasting');
  for (const w of all) t.ok(w.name.length > 0 && w.testDurationMinutes > w.warmupDurationMinutes, `${w.name} sane durations`);
});

t.test('a valid OMB workload parses with defaults', async (t) => {
  const w = parseWorkload(`${BASE}model: kafka\nacks: -1\n`, 'x.yaml');
  t.equal(w.model, 'kafka');
  t.equal(w.acks, 'all', 'acks -1 means all');
  t.equal(w.keyDistributor, 'NO_KEY');
  t.equal(w.name, 'x');
  t.equal(w.warmupDurationMinutes, 0);
  t.equal(modelFromFileName('/a/rocketmq-1-topic.yaml'), 'rocketmq');
  t.equal(parseWorkload(BASE, 'dir/rabbitmq-foo.yaml').model, 'rabbitmq', 'model from the file name');
  t.equal(parseWorkload(`${BASE}payloadFile: "payload/payload-1Kb.data"\nconsumerBacklogSizeGB: 0\n`, 'kafka-x.yaml').messageSize, 1024, 'OMB-only fields accepted');
});

t.test('an unknown field names file, line and field', async (t) => {
  const e = errorOf(() => parseWorkload(`${BASE}partitionPerTopic: 3\n`, 'bench/workloads/kafka-typo.yaml'));
  t.match(e.message, /^bench\/workloads\/kafka-typo\.yaml:9:1: field "partitionPerTopic" is not a known workload field/);
  t.same({ file: e.details.file, line: e.details.line, field: e.details.field }, { file: 'bench/workloads/kafka-typo.yaml', line: 9, field: 'partitionPerTopic' });
});

t.test('bad values name the field and the value', async (t) => {
  const cases: Array<[string, string, number, RegExp]> = [
    ['messageSize: -5', 'messageSize', 3, /must be an integer from 1/],
    ['messageSize: 1.5', 'messageSize', 3, /must be an integer/],
    ['producerRate: fast', 'producerRate', 7, /must be a number from 0/],
    ['topics: 0', 'topics', 1, /integer from 1/],
    ['testDurationMinutes: 0', 'testDurationMinutes', 8, /above 0/],
  ];
  for (const [line, field, lineNo, why] of cases) {
    const key = line.split(':')[0]!;
    const text = BASE.split('\n').map((l) => (l.startsWith(`${key}:`) ? line : l)).join('\n');
    const e = errorOf(() => parseWorkload(text, 'kafka-w.yaml'));
    t.equal(e.details.field, field, `${line}: field`);
    t.equal(e.details.line, lineNo, `${line}: line`);
    t.match(e.message, why, `${line}: reason`);
  }
  const ack = errorOf(() => parseWorkload(`${BASE}ackMode: sometimes\n`, 'rabbitmq-w.yaml'));
  t.match(ack.message, /rabbitmq-w\.yaml:9:\d+: field "ackMode" must be one of "auto", "manual" \(got "sometimes"\)/);
});

t.test('model-specific fields, required fields, YAML errors', async (t) => {
  t.match(errorOf(() => parseWorkload(`${BASE}prefetch: 10\n`, 'kafka-w.yaml')).message, /field "prefetch" applies to model rabbitmq only \(this workload is kafka\)/);
  t.match(errorOf(() => parseWorkload(BASE.replace('messageSize: 1024\n', ''), 'kafka-w.yaml')).message, /field "messageSize" is required/);
  t.match(errorOf(() => parseWorkload(BASE.replace('testDurationMinutes: 1\n', ''), 'kafka-w.yaml')).message, /testDurationMinutes" or messageCount is required/);
  t.equal(parseWorkload(`${BASE.replace('testDurationMinutes: 1\n', '')}messageCount: 1000\n`, 'kafka-w.yaml').messageCount, 1000);
  t.match(errorOf(() => parseWorkload(BASE, 'w.yaml')).message, /field "model" is required/);
  t.match(errorOf(() => parseWorkload(`${BASE}topics: 2\n`, 'kafka-w.yaml')).message, /kafka-w\.yaml:9:\d+: invalid YAML: .*unique/i);
  t.match(errorOf(() => parseWorkload('topics: [1\n', 'kafka-w.yaml')).message, /kafka-w\.yaml:\d+:\d+: invalid YAML/);
  t.match(errorOf(() => parseWorkload('- a\n- b\n', 'kafka-w.yaml')).message, /must be a YAML mapping/);
  t.match(errorOf(() => parseWorkload(`${BASE}name:\n  nested: 1\n`, 'kafka-w.yaml')).message, /field "name" must be a single value/);
  t.match(errorOf(() => loadWorkload('/nonexistent/kafka-x.yaml')).message, /\/nonexistent\/kafka-x\.yaml: cannot read workload file/);
});
