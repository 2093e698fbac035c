import * as fs from 'node:fs';
import { Producer, RocketCluster } from '../../core/rocketmq';
(async () => {
  const dir = fs.mkdtempSync('/tmp/rmq-prof-');
  const cluster = new RocketCluster({ dataDir: dir, broker: { segmentBytes: 1024 * 1024 * 1024 } });
  cluster.createTopic('T', 4);
  const p = new Producer({ group: 'g', transport: cluster.transport }); await p.start();
  const body = Buffer.alloc(100, 0x61);
  const msgs = Array.from({ length: 1024 }, () => ({ topic: 'T', body }));
  for (let r = 0; r < 3; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < 2000; i++) await p.send(msgs);
    console.log((2000 * 1024) / (Number(process.hrtime.bigint() - t0) / 1e9), cluster.broker().stats().maxDispatchLagBytes);
  }
  cluster.close(); fs.rmSync(dir, { recursive: true, force: true });
})();
