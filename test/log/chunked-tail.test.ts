/**
 * A reader tailing a log while two worker threads append in appendMode 'chunked' and a third in
 * 'ordered' mode: it only ever sees whole records, each writer's records in order with none
 * skipped (a record becomes visible only once every chunk before it is sealed, so the readable
 * log never has a hole that fills in later), endPosition never moves back, and in the end it has
 * seen every record.
 */
import t from 'tap';
import { Worker } from 'node:worker_threads';
import * as path from 'node:path';
import { CommitLog } from '../../core/log';
import { workerEntry } from '../../core/threads';
import { parseTagged, removeDir, taggedPayload, tempDir } from './helpers';

const WORKER = path.join(__dirname, '..', 'fixtures', 'log-chunked-append-worker.ts');
const SEGMENT_BYTES = 1 << 20;
const COUNTS = [30_000, 30_000, 1_000];

t.test('tailing reader sees every record of chunked and ordered writers once, in order, never a hole', async (t) => {
  const dir = tempDir('chunked-tail');
  t.teardown(() => removeDir(dir));
  const log = CommitLog.open(dir, { segmentBytes: SEGMENT_BYTES });
  t.teardown(() => log.close());
  const { filename, argv } = workerEntry(WORKER);
  let finished = 0;
  const workers = COUNTS.map((count, writer) => new Promise<void>((resolve, reject) => {
    const w = new Worker(filename, { argv, workerData: { dir, writer, count, appendMode: writer < 2 ? 'chunked' : 'ordered', segmentBytes: SEGMENT_BYTES, pauseEvery: writer < 2 ? 4000 : 50 } });
    w.on('message', () => {
      finished++;
      resolve();
    });
    w.on('error', reject);
  }));
  const next = COUNTS.map(() => 0);
  const problems: string[] = [];
  let position = 0;
  let lastEnd = 0;
  let batches = 0;
  const complete = (): boolean => next.every((n, w) => n === COUNTS[w]);
  // Poll in slices, yielding to the event loop so the workers' messages arrive.
  while (problems.length === 0 && !(finished === COUNTS.length && complete())) {
    for (let k = 0; k < 200 && problems.length === 0; k++) {
      const end = log.endPosition;
      if (end < lastEnd) problems.push(`endPosition went back from ${lastEnd} to ${end}`);
      lastEnd = end;
      const { records, next: after } = log.readBatch(position, 64 * 1024);
      batches++;
      for (const r of records) {
        const tag = parseTagged(r.payload);
        if (!tag || tag.writer >= COUNTS.length || !r.payload.equals(taggedPayload(tag.writer, tag.seq))) problems.push(`record at ${r.position} is not whole`);
        else if (tag.seq !== next[tag.writer]) problems.push(`writer ${tag.writer}: seq ${tag.seq} at ${r.position}, expected ${next[tag.writer]}`);
        else next[tag.writer]!++;
      }
      position = after;
    }
    if (finished === COUNTS.length && !complete() && log.readBatch(position).next === position) {
      problems.push(`all writers closed, reader at the end ${position} with ${next.join(' + ')} records`);
    }
    await new Promise((resolve) => setImmediate(resolve));
  }
  await Promise.all(workers);
  t.same(problems, [], 'whole records, in order per writer, no hole, end never moved back');
  t.same(next, COUNTS, `every record seen (${batches} batches)`);
});
