/**
 * `mqlab conform` and `mqlab check-history` as a user runs them: exit codes, TAP, JUnit, JSON,
 * seeds, and every kind of bad input ending in a clear error, never a hang.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import t from 'tap';

const ROOT = path.join(__dirname, '..', '..');
const BIN = path.join(ROOT, 'bin', 'mqlab.js');
const FIX = path.join(__dirname, 'fixtures');

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

function mqlab(args: string[], timeoutMs = 120_000): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`mqlab ${args.join(' ')} hung for ${timeoutMs} ms`));
    }, timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mqlab-cli-'));
t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));

t.test('a passing run: TAP, seed, JUnit and JSON, exit 0; the seed reproduces', async (t) => {
  const junit = path.join(dir, 'pass.xml');
  const json = path.join(dir, 'pass.json');
  const r = await mqlab(['conform', '--model', 'kafka', '--adapter', 'memory', '--seed', '4242', '--check', 'ordering/', '--check', 'offset-resume/', '--junit', junit, '--json', json]);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, /^TAP version 14\n/);
  t.match(r.stdout, /# seed: 4242 \(rerun with --seed 4242\)/);
  t.match(r.stdout, /\n1\.\.3\n/);
  t.match(r.stdout, /\nok 1 - offset-resume\/close-then-resume/);
  t.notMatch(r.stdout, /not ok/);
  const xml = fs.readFileSync(junit, 'utf8');
  t.match(xml, /<testsuite name="mqlab conform kafka \(memory\)" tests="3" failures="0" skipped="0"/);
  t.match(xml, /<property name="seed" value="4242"\/>/);
  const run = JSON.parse(fs.readFileSync(json, 'utf8'));
  t.equal(run.seed, 4242);
  t.same(run.counts, { pass: 3, fail: 0, skip: 0 });

  const again = await mqlab(['conform', '--model', 'kafka', '--adapter', 'memory', '--seed', '4242', '--check', 'ordering/', '--check', 'offset-resume/', '--json', json]);
  const run2 = JSON.parse(fs.readFileSync(json, 'utf8'));
  t.equal(again.code, 0);
  t.same(
    run2.results.map((x: { name: string; seed: number; ops: number }) => [x.name, x.seed]),
    run.results.map((x: { name: string; seed: number; ops: number }) => [x.name, x.seed]),
    'same seed, same per-check seeds',
  );

  const other = await mqlab(['conform', '--model', 'kafka', '--adapter', 'memory', '--check', 'ordering/']);
  t.match(other.stdout, /# seed: \d+ \(rerun with --seed \d+\)/, 'a run without --seed prints the seed it drew');
});

t.test('a failing run names the anomaly, exits 1 and keeps the history', async (t) => {
  const json = path.join(dir, 'fail.json');
  const junit = path.join(dir, 'fail.xml');
  const histories = path.join(dir, 'histories');
  const r = await mqlab(['conform', '--model', 'kafka', '--adapter', path.join(ROOT, 'conformance/self-test/faulty-kafka.ts'), '--adapter-option', 'fault=drop', '--seed', '7', '--check', 'ordering/', '--json', json, '--junit', junit, '--history-dir', histories]);
  t.equal(r.code, 1, r.stderr);
  t.match(r.stdout, /not ok 1 - ordering\/per-partition-fifo/);
  t.match(r.stdout, /    lost:\n      count: \d+/);
  t.match(fs.readFileSync(junit, 'utf8'), /<failure message="lost: /);
  const run = JSON.parse(fs.readFileSync(json, 'utf8'));
  const file = run.results[0].historyFile as string;
  t.ok(fs.existsSync(file), 'history written');
  const check = await mqlab(['check-history', file]);
  t.equal(check.code, 1, 'the saved history is invalid on its own too');
  t.match(check.stdout, /lost: \d+ case\(s\)/);
  fs.writeFileSync(path.join(dir, 'cut.jsonl'), fs.readFileSync(file, 'utf8').slice(0, 3000));
  const cut = await mqlab(['check-history', path.join(dir, 'cut.jsonl')]);
  t.equal(cut.code, 2);
  t.match(cut.stderr, /ERR_HISTORY: .*cut\.jsonl:\d+: truncated/);
});

t.test('bad input: clear error, exit 2', async (t) => {
  const cases: [string, string[], RegExp][] = [
    ['no model', ['conform', '--adapter', 'memory'], /--model is required/],
    ['unknown model', ['conform', '--model', 'nats', '--adapter', 'memory'], /--model must be one of kafka, rabbitmq, rocketmq/],
    ['bad seed', ['conform', '--model', 'kafka', '--adapter', 'memory', '--seed', 'abc'], /--seed must be a positive integer/],
    ['unknown option', ['conform', '--model', 'kafka', '--adapter', 'memory', '--fast'], /unknown option --fast/],
    ['missing module', ['conform', '--model', 'kafka', '--adapter', 'no/such/adapter.ts'], /adapter module no\/such\/adapter\.ts not found/],
    ['no factory', ['conform', '--model', 'kafka', '--adapter', path.join(FIX, 'no-factory.ts')], /must export a function createAdapter/],
    ['factory throws', ['conform', '--model', 'kafka', '--adapter', path.join(FIX, 'factory-throws.ts')], /could not be created: connect ECONNREFUSED/],
    ['factory hangs', ['conform', '--model', 'kafka', '--adapter', path.join(FIX, 'factory-hangs.ts'), '--timeout-ms', '300'], /createAdapter .* did not complete within 300 ms/],
    ['wrong shape', ['conform', '--model', 'kafka', '--adapter', path.join(FIX, 'wrong-shape.ts')], /adapter\.createTopic must be a function/],
    ['wrong model', ['conform', '--model', 'rabbitmq', '--adapter', path.join(FIX, 'wrong-shape.ts')], /adapter is for model kafka, not rabbitmq/],
    ['URL of another model', ['conform', '--model', 'kafka', '--adapter', 'amqp://127.0.0.1:1'], /URL scheme amqp:\/\/ does not fit model kafka/],
    ['unknown command', ['frobnicate'], /unknown command "frobnicate"/],
    ['missing history', ['check-history', path.join(dir, 'none.jsonl')], /ERR_HISTORY: cannot read history/],
  ];
  for (const [what, args, message] of cases) {
    const r = await mqlab(args, 60_000);
    t.equal(r.code, 2, `${what}: exit 2`);
    t.match(r.stderr, message, what);
  }
});

const REAL_KAFKA = path.join(ROOT, 'conformance', 'adapters', 'real', 'kafka.ts');
t.test('an unreachable broker URL fails within the connect timeout', { skip: fs.existsSync(REAL_KAFKA) ? false : 'conformance/adapters/real/kafka.ts is not present' }, async (t) => {
  const r = await mqlab(['conform', '--model', 'kafka', '--adapter', 'kafka://127.0.0.1:1', '--timeout-ms', '3000'], 90_000);
  t.equal(r.code, 2, r.stdout + r.stderr);
  t.match(r.stderr, /ERR_ADAPTER/);
});

t.test('an adapter call that never returns fails its check by timeout; nothing hangs', async (t) => {
  const r = await mqlab(['conform', '--model', 'kafka', '--adapter', path.join(FIX, 'method-hangs.ts'), '--check', 'ordering/', '--timeout-ms', '400']);
  t.equal(r.code, 1, r.stderr);
  t.match(r.stdout, /not ok 1 - ordering\/per-partition-fifo/);
  t.match(r.stdout, /ERR_TIMEOUT: poll by c#1 did not complete within \d+ ms/);
});
