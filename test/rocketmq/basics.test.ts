import t from 'tap';
import {
  allocateAveragely, createMessageId, decodeMessageId, parseSubscription, tagHashCode, checkTopic, checkGroup, parseDelayLevels,
  DEFAULT_DELAY_LEVELS, type MessageQueue,
} from '../../core/rocketmq';
import { addressPrefix } from '../../core/rocketmq/message-id';

t.test('tag hash code is Java String.hashCode', async (t) => {
  t.equal(tagHashCode('TagA'), 2598919);
  t.equal(tagHashCode(''), 0);
  // "polygenelubricants".hashCode() overflows to Integer.MIN_VALUE in Java.
  t.equal(tagHashCode('polygenelubricants'), -2147483648);
  t.equal(tagHashCode('Aa'), tagHashCode('BB'), 'a known Java collision stays a collision');
});

t.test('msgId = IPv4 + port + CommitLog offset, 32 hex digits', async (t) => {
  const id = createMessageId(addressPrefix('127.0.0.1:10911'), 0x1234);
  t.equal(id, '7F00000100002A9F0000000000001234');
  t.same(decodeMessageId(id), { storeHost: '127.0.0.1:10911', commitLogOffset: 0x1234 });
  t.throws(() => decodeMessageId('xyz'), { code: 'MESSAGE_ILLEGAL' });
  t.throws(() => decodeMessageId(42), { code: 'MESSAGE_ILLEGAL' });
});

t.test('subscription grammar', async (t) => {
  t.same(parseSubscription('T', '*').all, true);
  t.same(parseSubscription('T', '').all, true);
  t.same(parseSubscription('T', undefined).all, true);
  const s = parseSubscription('T', ' TagA ||TagB|| TagA ');
  t.same(s.tagsSet, ['TagA', 'TagB']);
  t.same(s.codeSet, [tagHashCode('TagA'), tagHashCode('TagB')]);
  for (const bad of ['A ||', '|| A', 'A | B', 'A || || B', '*||A', 'A B']) {
    t.throws(() => parseSubscription('T', bad), { code: 'SUBSCRIPTION_PARSE_FAILED' }, bad);
  }
  t.throws(() => parseSubscription('T', 7 as unknown as string), { code: 'SUBSCRIPTION_PARSE_FAILED' });
});

t.test('topic and group names follow RocketMQ rules', async (t) => {
  t.equal(checkTopic('%RETRY%g_1-x|y'), '%RETRY%g_1-x|y');
  t.throws(() => checkTopic('a.b'), { code: 'ERR_BAD_NAME' });
  t.throws(() => checkTopic('a b'), { code: 'ERR_BAD_NAME' });
  t.throws(() => checkTopic(''), { code: 'ERR_BAD_NAME' });
  t.throws(() => checkTopic('x'.repeat(128)), { code: 'ERR_BAD_NAME' });
  t.equal(checkTopic('x'.repeat(127)).length, 127);
  t.equal(checkGroup('g'.repeat(255)).length, 255);
  t.throws(() => checkGroup('g'.repeat(256)), { code: 'ERR_BAD_NAME' });
  t.throws(() => checkGroup('../etc'), { code: 'ERR_BAD_NAME' });
});

t.test('AllocateMessageQueueAveragely', async (t) => {
  const mqs: MessageQueue[] = [0, 1, 2, 3, 4].map((q) => ({ topic: 'T', brokerName: 'b', queueId: q }));
  const ids = (cid: string, cids: string[]) => allocateAveragely(cid, mqs, cids).map((m) => m.queueId);
  t.same(ids('c1', ['c1', 'c2']), [0, 1, 2]);
  t.same(ids('c2', ['c1', 'c2']), [3, 4]);
  t.same(ids('c1', ['c1', 'c2', 'c3']), [0, 1]);
  t.same(ids('c2', ['c1', 'c2', 'c3']), [2, 3]);
  t.same(ids('c3', ['c1', 'c2', 'c3']), [4]);
  const six = ['a', 'b', 'c', 'd', 'e', 'f'];
  t.same(six.map((c) => ids(c, six)), [[0], [1], [2], [3], [4], []]);
  t.same(ids('zz', ['c1']), []);
});

t.test('delay levels', async (t) => {
  const levels = parseDelayLevels(DEFAULT_DELAY_LEVELS);
  t.equal(levels.length, 18);
  t.equal(levels[0], 1000);
  t.equal(levels[3], 30_000);
  t.equal(levels[17], 7_200_000);
});
