import { RocketCluster, Producer } from '../../core/rocketmq';
(async () => {
  const c = new RocketCluster({ dataDir: '/tmp/rmq-perf-' + Date.now(), broker: { segmentBytes: 256 << 20 } });
  c.createTopic('T', 4);
  const p = new Producer({ group: 'pg', transport: c.transport }); await p.start();
  const body = Buffer.alloc(100, 1);
  const B = Number(process.env.B ?? 256);
  const batch = Array.from({ length: B }, () => ({ topic: 'T', body }));
  for (let round = 0; round < 5; round++) {
    const N = 1_000_000;
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < N / B; i++) await p.send(batch);
    const dt = Number(process.hrtime.bigint() - t0) / 1e9;
    console.log('send', Math.round(N / dt), 'msg/s', c.stats()[0]);
    c.broker().resetMaxDispatchLag();
  }
  c.close();
})();
