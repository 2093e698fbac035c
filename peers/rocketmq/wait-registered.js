#!/usr/bin/env node
// Exit 0 once the RocketMQ nameserver at 127.0.0.1:<port> lists broker <name> in its cluster
// info (GET_BROKER_CLUSTER_INFO over the remoting protocol); exit 1 after <seconds>.
// Usage: node wait-registered.js <nameserver-port> <broker-name> <seconds>
'use strict';
const net = require('node:net');

const [port, brokerName, seconds] = [Number(process.argv[2] || 9876), process.argv[3] || 'broker-a', Number(process.argv[4] || 60)];
const deadline = Date.now() + seconds * 1000;

function ask() {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    let input = Buffer.alloc(0);
    const done = (ok) => { socket.destroy(); resolve(ok); };
    socket.setTimeout(3000, () => done(false));
    socket.on('error', () => done(false));
    socket.on('connect', () => {
      const header = Buffer.from(JSON.stringify({ code: 106, language: 'JAVA', version: 479, opaque: 1, flag: 0, extFields: {} }));
      const frame = Buffer.alloc(8 + header.length);
      frame.writeUInt32BE(4 + header.length, 0);
      frame.writeUInt32BE(header.length, 4);
      header.copy(frame, 8);
      socket.write(frame);
    });
    socket.on('data', (chunk) => {
      input = Buffer.concat([input, chunk]);
      if (input.length < 4 || input.length < 4 + input.readUInt32BE(0)) return;
      const headerLength = input.readUInt32BE(4) & 0xffffff;
      const body = input.subarray(8 + headerLength, 4 + input.readUInt32BE(0)).toString('utf8');
      done(body.includes(`"brokerName":"${brokerName}"`));
    });
  });
}

(async () => {
  while (Date.now() < deadline) {
    if (await ask()) process.exit(0);
    await new Promise((r) => setTimeout(r, 300));
  }
  process.exit(1);
})();
