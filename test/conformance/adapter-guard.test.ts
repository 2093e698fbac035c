/** The plug-in point: module and adapter guards, and how --adapter values resolve. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import t from 'tap';
import { resolveAdapter } from '../../conformance/adapter-loader';
import { scaleWith } from '../../conformance/runner';
import { assertAdapter, assertAdapterModule } from '../../conformance/adapters/guard';
import { createAdapter as memoryKafka } from '../../conformance/adapters/memory/kafka';
import { createAdapter as memoryQueue } from '../../conformance/adapters/memory/rabbitmq';
import { createAdapter as memoryBroker } from '../../conformance/adapters/memory/rocketmq';

t.test('the example adapters pass the guard for their model', async (t) => {
  t.equal(assertAdapter('kafka', memoryKafka({}), 'memory').info.model, 'kafka');
  t.equal(assertAdapter('rabbitmq', memoryQueue({}), 'memory').info.model, 'rabbitmq');
  t.equal(assertAdapter('rocketmq', memoryBroker({}), 'memory').info.model, 'rocketmq');
});

t.test('modules and adapters that do not fit are rejected with the reason', async (t) => {
  t.throws(() => assertAdapterModule(null, 'x'), { code: 'ERR_ADAPTER', message: /did not load/ });
  t.throws(() => assertAdapterModule({ create: () => 1 }, 'x'), { code: 'ERR_ADAPTER', message: /must export a function createAdapter/ });
  t.equal(typeof assertAdapterModule({ default: { createAdapter: () => 1 } }, 'x').createAdapter, 'function', 'a default export holding createAdapter is accepted');
  const good = memoryKafka({});
  const info = good.info;
  const cases: [unknown, RegExp][] = [
    [42, /must return an object/],
    [{ ...good, info: undefined }, /info is missing/],
    [{ ...good, info: { ...info, model: 'nats' } }, /info.model must be one of/],
    [{ ...good, info: { ...info, name: '' } }, /info.name must be a non-empty string/],
    [{ ...good, info: { ...info, guarantee: 'maybe' } }, /guarantee must be one of at-most-once, at-least-once, exactly-once/],
    [{ ...good, info: { ...info, capabilities: 'all' } }, /capabilities must be an array/],
    [{ ...good, info: { ...info, quietMs: -1 } }, /quietMs must be a number of milliseconds/],
    [{ ...good, info: { ...info, quietMs: '1s' } }, /quietMs must be a number of milliseconds/],
    [{ info, close: good.close }, /adapter.createTopic must be a function \(kafka model\)/],
    [{ ...good, info: { ...info, capabilities: ['broker-restart'] }, createTopic: good.createTopic, deleteTopic: good.deleteTopic, offsets: good.offsets, producer: good.producer, consumer: good.consumer, close: good.close }, /capability broker-restart is declared but adapter.restartBroker is not a function/],
  ];
  for (const [adapter, message] of cases) t.throws(() => assertAdapter('kafka', adapter, 'x'), { code: 'ERR_ADAPTER', message });
  t.throws(() => assertAdapter('rocketmq', good, 'x'), { message: /adapter is for model kafka, not rocketmq/ });
});

t.test('--adapter resolution: builtin, memory, URLs, paths', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mqlab-adapters-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  t.throws(() => resolveAdapter('kafka', 'builtin', dir), { code: 'ERR_ADAPTER', message: /the builtin adapter for kafka is not available: .*builtin\/kafka\.ts does not exist/ });
  t.throws(() => resolveAdapter('rocketmq', 'rocketmq://127.0.0.1:9876', dir), { code: 'ERR_ADAPTER', message: /no real-broker adapter for rocketmq/ });
  fs.mkdirSync(path.join(dir, 'real'));
  fs.writeFileSync(path.join(dir, 'real', 'rabbitmq.ts'), 'export {};\n');
  t.same(resolveAdapter('rabbitmq', 'amqp://guest:guest@127.0.0.1:5672', dir), { spec: 'amqp://guest:guest@127.0.0.1:5672', modulePath: path.join(dir, 'real', 'rabbitmq.ts'), options: { url: 'amqp://guest:guest@127.0.0.1:5672' } });
  t.throws(() => resolveAdapter('kafka', 'amqp://127.0.0.1', dir), { message: /URL scheme amqp:\/\/ does not fit model kafka \(expected kafka:\/\/\)/ });
  t.throws(() => resolveAdapter('kafka', 'kafka://[bad', dir), { message: /malformed broker URL/ });
  t.equal(resolveAdapter('kafka', 'memory').modulePath, path.join(__dirname, '..', '..', 'conformance', 'adapters', 'memory', 'kafka.ts'));
  t.throws(() => resolveAdapter('kafka', path.join(dir, 'nope.ts')), { message: /not found \(expected builtin, memory, a broker URL or a path to a module\)/ });
});

t.test('an adapter quiet-time hint lengthens the drains, never shortens them', async (t) => {
  t.equal(scaleWith(false, {}).idleMs, 150, 'default quick quiet window');
  t.equal(scaleWith(false, { quietMs: 750 }).idleMs, 750, 'a real broker asks for more');
  t.equal(scaleWith(false, { quietMs: 20 }).idleMs, 150, 'a hint below the default changes nothing');
  t.equal(scaleWith(true, { quietMs: 750 }).idleMs, 1_000, '--long keeps its longer window');
  t.equal(scaleWith(false, { quietMs: 750 }, { idleMs: 80 }).idleMs, 80, 'an explicit scale (tests) wins');
});
