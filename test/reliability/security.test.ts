/**
 * Security: user-supplied names can never create anything outside the data directory; data files
 * are never wider than the umask allows; the peers' brokers and this project listen on loopback only.
 */
import t from 'tap';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { isMqlabError } from '../../core/errors';
import { KafkaEngine } from '../../core/kafka';
import { RabbitEngine } from '../../core/rabbitmq';
import { Broker } from '../../core/rocketmq';
import { listeningSocketsOf } from '../../scripts/reliability/listening-sockets';
import { collectLines, spawnTs, waitExit } from '../../scripts/reliability/spawn-ts';

const ROOT = path.resolve(__dirname, '..', '..');
const MARK = `zzsec${process.pid}`;
const sandbox = fs.mkdtempSync(path.join(os.tmpdir(), 'mqlab-sec-'));
const data = path.join(sandbox, 'data');
t.teardown(() => fs.rmSync(sandbox, { recursive: true, force: true }));

const HOSTILE = [
  '..', '.', '...', '../', '/', '//', '', ' ', ' ..', `../${MARK}a`, `../../${MARK}b`, `${MARK}/../../${MARK}c`, `/tmp/${MARK}d`,
  `${sandbox}/${MARK}e`, `a/${MARK}f`, `${MARK}g/`, `${MARK}\0h`, `..\\${MARK}i`, `%2e%2e%2f${MARK}j`, `~/${MARK}k`, `$HOME/${MARK}l`,
  `.${MARK}m`, `${MARK}\nn`, `%RETRY%../${MARK}o`, `%DLQ%/../${MARK}p`, 'x'.repeat(300), 'y'.repeat(5000), `${MARK}é/ü`, 'CON', 'nul',
];

function walk(dir: string, out: string[] = []): string[] {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    out.push(p);
    if (e.isDirectory() && !e.isSymbolicLink()) walk(p, out);
  }
  return out;
}

/** Calls fn; a thrown error must be an MqlabError. Returns the untyped error text, if any. */
async function typedOrOk(fn: () => unknown): Promise<string | null> {
  try {
    await fn();
    return null;
  } catch (e) {
    return isMqlabError(e) ? null : `${(e as Error)?.constructor?.name}: ${(e as Error)?.message}`;
  }
}

t.test('hostile names through every engine API stay inside the data directory', async (t) => {
  const untyped: string[] = [];
  const note = (what: string, name: string, err: string | null) => err && untyped.push(`${what}(${JSON.stringify(name).slice(0, 40)}): ${err}`);

  const kafka = KafkaEngine.open(path.join(data, 'kafka'), { retentionCheckIntervalMs: 0, autoCreateTopics: true });
  const producer = kafka.producer();
  const rabbit = RabbitEngine.open(path.join(data, 'rabbitmq'), { durability: 'none' });
  const ch = await rabbit.createConfirmChannel();
  const broker = new Broker({ dataDir: path.join(data, 'rocketmq'), segmentBytes: 1024 * 1024, maxMessageSize: 65536, persistIntervalMs: 0, scheduleIntervalMs: 0, autoCreateTopicEnable: true } as never).start();
  broker.createTopic('SecTopic', 1);
  for (const name of HOSTILE) {
    note('kafka.createTopic', name, await typedOrOk(() => kafka.createTopic(name, { numPartitions: 1, segmentBytes: 64 * 1024 })));
    note('kafka.send', name, await typedOrOk(() => producer.send({ topic: name, acks: 1, messages: [{ value: 'v' }] })));
    note('kafka.consumer.commit', name, await typedOrOk(async () => {
      const c = kafka.consumer({ groupId: name, autoCommit: false });
      try {
        c.assign([{ topic: kafka.listTopics()[0] ?? 'none', partition: 0 }]);
        await c.commit([{ topic: kafka.listTopics()[0] ?? 'none', partition: 0, offset: 0 }]);
      } finally {
        await c.close();
      }
    }));
    note('rabbit.assertQueue', name, await typedOrOk(() => ch.assertQueue(name, { durable: true })));
    note('rabbit.assertExchange', name, await typedOrOk(() => ch.assertExchange(name, 'direct', { durable: true })));
    note('rabbit.sendToQueue', name, await typedOrOk(async () => {
      ch.sendToQueue(name, Buffer.from('m'), { persistent: true });
      await ch.waitForConfirms();
    }));
    note('rocket.createTopic', name, await typedOrOk(() => broker.createTopic(name, 1)));
    note('rocket.sendMessage', name, await typedOrOk(() => broker.sendMessage({ topic: name, queueId: 0, messages: [{ topic: name, body: 'b', keys: name }] })));
    note('rocket.pull(group)', name, await typedOrOk(() => broker.pullMessage({ group: name, topic: 'SecTopic', queueId: 0, queueOffset: 0, maxMsgNums: 1 })));
    note('rocket.updateConsumerOffset', name, await typedOrOk(() => broker.updateConsumerOffset(name, 'SecTopic', 0, 0)));
    note('rocket.queryMessage', name, await typedOrOk(() => broker.queryMessage('SecTopic', name, 1, 0, Date.now() + 1000)));
  }
  await rabbit.flush();
  broker.persist();
  broker.shutdown();
  await rabbit.close();
  kafka.flushSync();
  kafka.close();

  t.same(untyped, [], 'every refusal is a typed MqlabError');
  const top = fs.readdirSync(sandbox);
  t.same(top, ['data'], 'nothing was created beside the data directory');
  const entries = walk(data);
  t.ok(entries.length > 20, `the engines wrote their stores (${entries.length} entries)`);
  const outside = entries.filter((p) => !path.resolve(p).startsWith(data + path.sep));
  t.same(outside, [], 'every path is inside the data directory');
  const links = entries.filter((p) => fs.lstatSync(p).isSymbolicLink());
  t.same(links, [], 'no symbolic links were created');
  const strays = [os.tmpdir(), ROOT, process.cwd(), os.homedir(), '/'].flatMap((d) => {
    try {
      return fs.readdirSync(d).filter((f) => f.includes(MARK)).map((f) => path.join(d, f));
    } catch {
      return [];
    }
  });
  t.same(strays, [], 'no file named after a hostile name appeared in /tmp, the repository, the cwd, HOME or /');
});

for (const mask of ['077', '027']) {
  t.test(`data files are no wider than umask ${mask} allows`, async (t) => {
    const dir = path.join(sandbox, `umask-${mask}`);
    fs.mkdirSync(dir, { mode: 0o700 });
    const child = spawnTs(path.join(ROOT, 'scripts', 'reliability', 'umask-child.ts'), [dir, mask]);
    const out = collectLines(child);
    const exit = await waitExit(child);
    t.equal(exit.code, 0, `the child created its data (stderr: ${out.stderr().slice(0, 400)})`);
    const forbidden = parseInt(mask, 8);
    const entries = walk(dir);
    t.ok(entries.length > 30, `files and directories were created (${entries.length})`);
    const wide = entries.map((p) => ({ p: path.relative(dir, p), mode: fs.lstatSync(p).mode & 0o777 })).filter((e) => (e.mode & forbidden) !== 0);
    t.same(wide.map((w) => `${w.p} ${w.mode.toString(8)}`), [], `no mode has bits the umask removes (${mask})`);
  });
}

function peerPids(): Array<{ file: string; pid: number }> {
  const work = path.join(ROOT, 'peers', '.work');
  const out: Array<{ file: string; pid: number }> = [];
  if (!fs.existsSync(work)) return out;
  for (const d of fs.readdirSync(work)) {
    const sub = path.join(work, d);
    if (!fs.statSync(sub).isDirectory()) continue;
    for (const f of fs.readdirSync(sub).filter((x) => x.endsWith('.pid'))) {
      const pid = Number(fs.readFileSync(path.join(sub, f), 'utf8').trim());
      if (Number.isInteger(pid) && pid > 0 && fs.existsSync(`/proc/${pid}`)) out.push({ file: `${d}/${f}`, pid });
    }
  }
  return out;
}

const peers = peerPids();
t.test('running peer brokers listen on loopback only', { skip: peers.length === 0 ? 'no peer broker is running (peers/.work/*/*.pid)' : false }, (t) => {
  let sockets = 0;
  for (const { file, pid } of peers) {
    const ls = listeningSocketsOf(pid);
    sockets += ls.length;
    const open = ls.filter((s) => !s.loopback).map((s) => `${s.address}:${s.port}`);
    t.same(open, [], `${file} (pid ${pid}) listens on ${ls.map((s) => `${s.address}:${s.port}`).join(', ') || 'nothing'}`);
  }
  t.ok(sockets > 0, `the peers' listening sockets were found (${sockets})`);
  t.end();
});

t.test('the project opens no listening socket on a non-loopback address', (t) => {
  // Static: every listen/createServer/bind call in the sources names a loopback host; broker configs too.
  const offenders: string[] = [];
  const scan = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      if (['node_modules', '.work', '.bundles', '.out', 'build', 'dist', '.git', '.tap'].includes(e.name)) continue;
      const p = path.join(dir, e.name);
      if (e.isDirectory()) scan(p);
      else if (/\.(ts|js|mjs|cjs|sh|conf|properties)$/.test(e.name) && !p.includes(`${path.sep}test${path.sep}reliability${path.sep}`)) {
        const text = fs.readFileSync(p, 'utf8');
        for (const m of text.matchAll(/\.listen\(|createServer\(|createSocket\(|\.bind\(\s*\d|bindAddress\s*=|listeners(\.tcp\.\d+)?\s*=|advertised\.listeners\s*=/g)) {
          const around = text.slice(m.index!, m.index! + 300).split('\n').slice(0, m[0].endsWith('=') ? 1 : 6).join('\n');
          if (!/127\.0\.0\.1|localhost|::1|\$\{?(HOST|LOOPBACK)/.test(around)) offenders.push(`${path.relative(ROOT, p)}: ${around.split('\n')[0]}`);
        }
      }
    }
  };
  for (const d of ['core', 'conformance', 'bench', 'bin', 'peers', 'scripts']) if (fs.existsSync(path.join(ROOT, d))) scan(path.join(ROOT, d));
  t.same(offenders, [], 'every listen/bind in the sources and peer configs names a loopback address');
  // Runtime: this test process, after running all three engines above, listens nowhere but loopback.
  const mine = listeningSocketsOf(process.pid);
  t.same(mine.filter((s) => !s.loopback).map((s) => `${s.address}:${s.port}`), [], `this process listens on ${mine.length} sockets, none beyond loopback`);
  t.end();
});
