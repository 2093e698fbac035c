/**
 * CommitLog.roll: sealing the active segment on demand (what Kafka's segment.ms needs), so that
 * retention by age can delete the records of a log that stopped growing.
 */
import t from 'tap';
import { CommitLog } from '../../core/log';
import { codeOf, payloadFor, removeDir, tempDir } from './helpers';

t.test('roll seals the active segment; the next append starts the new one', (t) => {
  const dir = tempDir('roll');
  t.teardown(() => removeDir(dir));
  let now = 1_000_000;
  const day = 24 * 3600 * 1000;
  const log = CommitLog.open(dir, { segmentBytes: 1 << 20, retention: { maxAgeMs: 7 * day }, clock: () => now });
  t.equal(log.roll(), false, 'an empty active segment does not roll');
  t.equal(log.segmentCount(), 1);
  const old = [0, 1, 2].map((i) => log.append(payloadFor(i, 50)));
  t.equal(log.activeSegmentStart, 0, 'the first segment starts at 0');
  t.equal(log.roll(), true, 'rolls a segment holding records');
  t.equal(log.segmentCount(), 2, 'a new segment file');
  t.equal(log.activeSegmentStart, log.endPosition, 'the new active segment starts at the end');
  t.equal(log.roll(), false, 'and, empty, does not roll again');
  now += 8 * day;
  const fresh = log.append(payloadFor(3, 50));
  t.equal(fresh, log.activeSegmentStart, 'the next record opens the new segment');
  t.same([...log.records()].map((r) => r.position), [...old, fresh], 'positions run on across the roll');
  t.same(log.applyRetention(), { deletedSegments: 1, startPosition: fresh }, 'the sealed, expired segment is deleted');
  t.equal(codeOf(() => log.read(old[0]!)), 'ERR_OUT_OF_RANGE');
  log.close();

  const again = CommitLog.open(dir, { segmentBytes: 1 << 20 });
  t.equal(again.recovery.corrupt.length, 0, 'a rolled log reopens clean');
  t.same([...again.records()].map((r) => r.payload.toString()), [payloadFor(3, 50).toString()], 'with the kept record');
  t.equal(again.roll(), true);
  t.equal(again.append(Buffer.from('x')), again.activeSegmentStart);
  again.close();
  t.equal(codeOf(() => again.roll()), 'ERR_CLOSED', 'roll after close');
  t.equal(codeOf(() => again.activeSegmentStart), 'ERR_CLOSED', 'activeSegmentStart after close');
  t.end();
});
