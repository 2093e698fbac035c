/**
 * The mqlab command line.
 *
 *   mqlab conform --model kafka|rabbitmq|rocketmq --adapter builtin|memory|<URL>|<module path>
 *                 [--seed N] [--quick | --long] [--junit FILE] [--json FILE] [--history-dir DIR]
 *                 [--check NAME]... [--threads N] [--timeout-ms N] [--adapter-option key=value]...
 *   mqlab check-history FILE [--guarantee at-most-once|at-least-once|exactly-once] [--allow a,b]
 *   mqlab bench ...            (delegates to bench/cli.ts)
 *
 * Exit codes: 0 every check passed (skips allowed), 1 a check failed or the history is invalid,
 * 2 bad input (usage, adapter, history file).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { isMqlabError, MqlabError } from '../core/errors';
import { DELIVERY_GUARANTEES, MODEL_NAMES, type DeliveryGuarantee, type ModelName, type OperationTimeouts } from '../conformance/adapters/common';
import { resolveAdapter } from '../conformance/adapter-loader';
import { ANOMALY_NAMES, type AnomalyName } from '../conformance/checker/anomalies';
import { checkHistory } from '../conformance/checker/check-history';
import { renderVerdict } from '../conformance/checker/render';
import { readHistory } from '../conformance/history/jsonl';
import { junitXml } from '../conformance/report/junit';
import { tapFooter, tapHeader, tapPlan, tapResult } from '../conformance/report/tap';
import { runConformance } from '../conformance/runner';
import { randomSeed } from '../conformance/suites/framework/rng';

const USAGE = `usage:
  mqlab conform --model kafka|rabbitmq|rocketmq --adapter builtin|memory|<URL>|<module>
                [--seed N] [--quick|--long] [--junit FILE] [--json FILE] [--history-dir DIR]
                [--check NAME]... [--threads N] [--timeout-ms N] [--adapter-option key=value]...
  mqlab check-history FILE [--guarantee at-most-once|at-least-once|exactly-once] [--allow a,b]
  mqlab bench ...`;

function usage(message: string): MqlabError {
  return new MqlabError('ERR_USAGE', `${message}\n${USAGE}`);
}

interface ParsedFlags {
  values: Map<string, string[]>;
  booleans: Set<string>;
  positional: string[];
}

function parseFlags(argv: readonly string[], valued: readonly string[], booleans: readonly string[]): ParsedFlags {
  const out: ParsedFlags = { values: new Map(), booleans: new Set(), positional: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('--')) {
      out.positional.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    const name = eq > 0 ? a.slice(2, eq) : a.slice(2);
    if (booleans.includes(name)) {
      if (eq > 0) throw usage(`--${name} takes no value`);
      out.booleans.add(name);
    } else if (valued.includes(name)) {
      const v = eq > 0 ? a.slice(eq + 1) : argv[++i];
      if (v === undefined) throw usage(`--${name} needs a value`);
      const list = out.values.get(name) ?? [];
      list.push(v);
      out.values.set(name, list);
    } else {
      throw usage(`unknown option --${name}`);
    }
  }
  return out;
}

function one(f: ParsedFlags, name: string): string | undefined {
  const v = f.values.get(name);
  if (v && v.length > 1) throw usage(`--${name} given more than once`);
  return v?.[0];
}

function positiveInt(s: string, what: string, allowZero = false): number {
  if (!/^\d+$/.test(s) || (!allowZero && Number(s) === 0) || !Number.isSafeInteger(Number(s))) throw usage(`${what} must be a ${allowZero ? 'non-negative' : 'positive'} integer, got ${JSON.stringify(s)}`);
  return Number(s);
}

function writeOut(file: string, text: string): void {
  try {
    fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    fs.writeFileSync(file, text);
  } catch (e) {
    throw new MqlabError('ERR_IO', `cannot write ${file}: ${(e as Error).message}`);
  }
}

async function conform(argv: readonly string[], out: (s: string) => void): Promise<number> {
  const f = parseFlags(argv, ['model', 'adapter', 'seed', 'junit', 'json', 'history-dir', 'check', 'threads', 'timeout-ms', 'adapter-option'], ['quick', 'long']);
  if (f.positional.length > 0) throw usage(`unexpected argument ${f.positional[0]}`);
  const model = one(f, 'model');
  if (!model) throw usage('--model is required');
  if (!MODEL_NAMES.includes(model as ModelName)) throw usage(`--model must be one of ${MODEL_NAMES.join(', ')}, got ${JSON.stringify(model)}`);
  const adapterSpec = one(f, 'adapter');
  if (!adapterSpec) throw usage('--adapter is required');
  if (f.booleans.has('quick') && f.booleans.has('long')) throw usage('--quick and --long exclude each other');
  const seedText = one(f, 'seed');
  const seed = seedText === undefined ? randomSeed() : positiveInt(seedText, '--seed');
  const threadsText = one(f, 'threads');
  const threads = threadsText === undefined ? 2 : positiveInt(threadsText, '--threads', true);
  const timeoutText = one(f, 'timeout-ms');
  let timeouts: Partial<OperationTimeouts> | undefined;
  if (timeoutText !== undefined) {
    const ms = positiveInt(timeoutText, '--timeout-ms');
    timeouts = { connect: ms, admin: ms, send: ms, receive: ms, settle: ms, lifecycle: ms };
  }
  const params: Record<string, string> = {};
  for (const kv of f.values.get('adapter-option') ?? []) {
    const eq = kv.indexOf('=');
    if (eq <= 0) throw usage(`--adapter-option must be key=value, got ${JSON.stringify(kv)}`);
    params[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  const long = f.booleans.has('long');
  const adapter = resolveAdapter(model as ModelName, adapterSpec);
  const junit = one(f, 'junit');
  const json = one(f, 'json');
  const historyDir = one(f, 'history-dir');
  const filter = f.values.get('check');

  const optionText = Object.entries(params).map(([k, v]) => ` --adapter-option ${k}=${v}`).join('');
  out(tapHeader([`mqlab conform --model ${model} --adapter ${adapterSpec}${optionText} --seed ${seed} --${long ? 'long' : 'quick'}`, `seed: ${seed} (rerun with --seed ${seed})`]));
  const run = await runConformance({
    model: model as ModelName,
    adapter,
    seed,
    long,
    threads,
    ...(filter ? { filter } : {}),
    ...(historyDir ? { historyDir } : {}),
    ...(timeouts ? { timeouts } : {}),
    ...(Object.keys(params).length > 0 ? { params } : {}),
    onPlan: (total, info) => out(tapPlan(total, info)),
    onResult: (r, n) => out(tapResult(r, n)),
  });
  out(tapFooter(run));
  if (junit) writeOut(junit, junitXml(run));
  if (json) writeOut(json, JSON.stringify(run, null, 2) + '\n');
  return run.counts.fail > 0 ? 1 : 0;
}

function checkHistoryCommand(argv: readonly string[], out: (s: string) => void): number {
  const f = parseFlags(argv, ['guarantee', 'allow'], []);
  if (f.positional.length !== 1) throw usage('check-history needs exactly one history file');
  const guarantee = (one(f, 'guarantee') ?? 'at-least-once') as DeliveryGuarantee;
  if (!DELIVERY_GUARANTEES.includes(guarantee)) throw usage(`--guarantee must be one of ${DELIVERY_GUARANTEES.join(', ')}`);
  const allow = (one(f, 'allow') ?? '').split(',').filter((s) => s.length > 0);
  for (const a of allow) if (!ANOMALY_NAMES.includes(a as AnomalyName)) throw usage(`unknown anomaly ${JSON.stringify(a)} in --allow (known: ${ANOMALY_NAMES.join(', ')})`);
  const h = readHistory(f.positional[0]!);
  const t0 = process.hrtime.bigint();
  const v = checkHistory(h.ops, { guarantee, allow: allow as AnomalyName[] });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  out(`${h.ops.length} operations checked in ${ms.toFixed(1)} ms (${guarantee})\n`);
  for (const l of renderVerdict(v)) out(l + '\n');
  out(v.valid ? 'valid\n' : `invalid: ${v.failures.join(', ')}\n`);
  return v.valid ? 0 : 1;
}

async function bench(argv: readonly string[]): Promise<number> {
  const file = path.join(__dirname, '..', 'bench', 'cli.ts');
  if (!fs.existsSync(file)) throw new MqlabError('ERR_USAGE', 'mqlab bench is not available: bench/cli.ts does not exist');
  const mod = (await import(file)) as { main?: (argv: string[]) => unknown; default?: { main?: (argv: string[]) => unknown } };
  const main = mod.main ?? mod.default?.main;
  if (typeof main !== 'function') throw new MqlabError('ERR_USAGE', 'bench/cli.ts does not export main(argv)');
  const r = await main([...argv]);
  return typeof r === 'number' ? r : 0;
}

export async function main(argv: readonly string[], out: (s: string) => void = (s) => process.stdout.write(s)): Promise<number> {
  const [cmd, ...rest] = argv;
  try {
    switch (cmd) {
      case 'conform':
        return await conform(rest, out);
      case 'check-history':
        return checkHistoryCommand(rest, out);
      case 'bench':
        return await bench(rest);
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        out(USAGE + '\n');
        return cmd === undefined ? 2 : 0;
      default:
        throw usage(`unknown command ${JSON.stringify(cmd)}`);
    }
  } catch (e) {
    if (isMqlabError(e)) {
      process.stderr.write(`mqlab: ${e.code}: ${e.message}\n`);
      return 2;
    }
    process.stderr.write(`mqlab: unexpected error: ${(e as Error)?.stack ?? String(e)}\n`);
    return 2;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      // Exit explicitly: a hung adapter call may still hold timers or sockets open.
      process.stdout.write('', () => process.exit(code));
    },
    (e) => {
      process.stderr.write(`mqlab: ${String(e)}\n`);
      process.exit(2);
    },
  );
}
