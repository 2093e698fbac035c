// Child process for core.recover.1GiB (bench/micro/core.ts): opens the log in argv[2], appends
// 1 KiB records in batches until it holds argv[3] bytes, prints "ready <endPosition>", and keeps
// appending until the parent kills it with SIGKILL.
import { CommitLog } from '../../core/log';

const log = CommitLog.open(process.argv[2]!);
const target = Number(process.argv[3]);
const batch = Array.from({ length: 256 }, (_, i) => Buffer.alloc(1024, i));
while (log.endPosition < target) log.appendBatch(batch);
process.stdout.write(`ready ${log.endPosition}\n`);
const more = (): void => {
  log.appendBatch(batch);
  setImmediate(more);
};
more();
