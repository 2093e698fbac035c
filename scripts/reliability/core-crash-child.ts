/**
 * Crash-campaign child: opens a CommitLog and appends pattern records until it is SIGKILLed.
 * stdout lines (one write per batch, after the calls that they report returned):
 *   R <endPosition>            the log is open
 *   A <index> <position>       append/appendBatch returned (policies none and async)
 *   C <index> <position>       write() resolved under flush 'sync': the record is durable
 * Usage: core-crash-child.ts DIR POLICY START_INDEX SEGMENT_BYTES
 */
import { CommitLog } from '../../core/log';
import type { FlushPolicy } from '../../core/log/types';
import { patternPayload } from './record-pattern';
import { emit } from './emit';

const [dir, policyArg, startArg, segArg] = process.argv.slice(2);
const policy = policyArg as FlushPolicy;
let next = Number(startArg);
const log = CommitLog.open(dir!, { flush: policy, segmentBytes: Number(segArg), flushIntervalMs: 5, flushBytes: 64 * 1024 });
emit(`R ${log.endPosition}\n`);

function appendLoop(): void {
  let out = '';
  const n = 1 + Math.floor(Math.random() * 40);
  if (Math.random() < 0.5) {
    for (let k = 0; k < n; k++, next++) out += `A ${next} ${log.append(patternPayload(next))}\n`;
  } else {
    const payloads: Buffer[] = [];
    for (let k = 0; k < n; k++) payloads.push(patternPayload(next + k));
    let pos = log.appendBatch(payloads);
    for (let k = 0; k < n; k++, next++) {
      out += `A ${next} ${pos}\n`;
      pos += (16 + payloads[k]!.length + 7) & ~7;
    }
  }
  emit(out);
  setImmediate(appendLoop);
}

let inFlight = 0;
function syncLoop(): void {
  while (inFlight < 32) {
    const i = next++;
    inFlight++;
    log.write(patternPayload(i)).then((pos) => {
      inFlight--;
      emit(`C ${i} ${pos}\n`);
      syncLoop();
    }, (e: unknown) => {
      process.stderr.write(`write failed: ${String(e)}\n`);
      process.exit(3);
    });
  }
}

if (policy === 'sync') syncLoop();
else appendLoop();
