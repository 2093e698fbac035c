import t from 'tap';
import { GroupCoordinator, type JoinRequest } from '../../core/kafka/group-coordinator';

function setup() {
  let now = 1_000_000;
  const changes: number[] = [];
  const gc = new GroupCoordinator(() => now, (topic) => (topic === 'orders' ? 4 : undefined), () => changes.push(now));
  const req = (memberId?: string): JoinRequest => ({ memberId, clientId: 'c', topics: ['orders'], assignors: ['range'], sessionTimeoutMs: 10_000, rebalanceTimeoutMs: 30_000 });
  return { gc, req, advance: (ms: number) => (now += ms), changes };
}

t.test('a lone member gets every partition at once', async (t) => {
  const { gc, req } = setup();
  const r = gc.join('g', req());
  t.equal(r.status, 'stable');
  if (r.status !== 'stable') return;
  t.equal(r.generation, 1);
  t.same(r.assignment.map((a) => a.partition), [0, 1, 2, 3]);
  t.doesNotThrow(() => gc.heartbeat('g', r.memberId, 1));
});

t.test('a second member triggers a rebalance; the first must rejoin', async (t) => {
  const { gc, req } = setup();
  const a = gc.join('g', req());
  if (a.status !== 'stable') throw new Error('expected stable');
  const b = gc.join('g', req());
  t.equal(b.status, 'pending', 'new member waits for the others');
  t.throws(() => gc.heartbeat('g', a.memberId, 1), { code: 'REBALANCE_IN_PROGRESS' });
  // The old member may still commit with its generation while the group prepares.
  t.doesNotThrow(() => gc.validateCommit('g', a.memberId, 1, [{ topic: 'orders', partition: 3 }]));
  const a2 = gc.join('g', req(a.memberId));
  t.equal(a2.status, 'stable');
  const b2 = gc.join('g', req(b.memberId));
  if (a2.status !== 'stable' || b2.status !== 'stable') throw new Error('expected stable');
  t.equal(a2.generation, 2);
  t.equal(b2.generation, 2);
  const all = [...a2.assignment, ...b2.assignment].map((x) => x.partition).sort();
  t.same(all, [0, 1, 2, 3], 'each partition to exactly one member');
  t.equal(a2.assignment.length, 2);
  // Old generation commits are refused now.
  t.throws(() => gc.validateCommit('g', a.memberId, 1, [{ topic: 'orders', partition: 0 }]), { code: 'ILLEGAL_GENERATION' });
  const notMine = [0, 1, 2, 3].find((p) => !a2.assignment.some((x) => x.partition === p))!;
  t.throws(() => gc.validateCommit('g', a.memberId, 2, [{ topic: 'orders', partition: notMine }]), { code: 'ILLEGAL_GENERATION' }, 'partition now owned by the other member');
  t.throws(() => gc.validateCommit('g', 'nobody', 2, []), { code: 'UNKNOWN_MEMBER_ID' });
  t.throws(() => gc.validateCommit('g', '', -1, []), { code: 'ILLEGAL_GENERATION' }, 'standalone commit while the group is active');
});

t.test('leave and session expiry rebalance; a member that misses the rebalance is removed', async (t) => {
  const { gc, req, advance } = setup();
  const a = gc.join('g', req());
  const b = gc.join('g', req());
  gc.join('g', req(a.memberId));
  const b2 = gc.join('g', req(b.memberId));
  if (b2.status !== 'stable') throw new Error('expected stable');
  gc.leave('g', a.memberId);
  t.throws(() => gc.heartbeat('g', b.memberId, b2.generation), { code: 'REBALANCE_IN_PROGRESS' });
  const b3 = gc.join('g', req(b.memberId));
  if (b3.status !== 'stable') throw new Error('expected stable');
  t.equal(b3.assignment.length, 4, 'the remaining member gets all after a leave');
  // A crash: c joins, then goes silent; b keeps heartbeating.
  const c = gc.join('g', req());
  gc.join('g', req(b.memberId));
  const c2 = gc.join('g', req(c.memberId));
  if (c2.status !== 'stable') throw new Error('expected stable');
  for (let i = 0; i < 3; i++) {
    advance(4_000);
    try {
      gc.heartbeat('g', b.memberId, c2.generation);
    } catch {
      /* rebalance noticed below */
    }
  }
  t.throws(() => gc.heartbeat('g', c.memberId, c2.generation), { code: 'UNKNOWN_MEMBER_ID' }, 'c expired after 10 s of silence');
  const b4 = gc.join('g', req(b.memberId));
  if (b4.status !== 'stable') throw new Error('expected stable');
  t.equal(b4.assignment.length, 4);
  t.equal(gc.describe('g').members.length, 1);
  // Rebalance timeout: d joins, b never rejoins but keeps its session alive → b is dropped after 30 s.
  const d = gc.join('g', req());
  t.equal(d.status, 'pending');
  for (let i = 0; i < 8; i++) {
    advance(4_000);
    gc.join('g', req(d.memberId));
  }
  const d2 = gc.join('g', req(d.memberId));
  t.equal(d2.status, 'stable', 'completed without the member that did not rejoin');
  t.equal(gc.describe('g').members.length, 1);
});

t.test('assignors must overlap', async (t) => {
  const { gc, req } = setup();
  gc.join('g', req());
  t.throws(() => gc.join('g', { ...req(), assignors: ['sticky'] }), { code: 'INCONSISTENT_GROUP_PROTOCOL' });
});
