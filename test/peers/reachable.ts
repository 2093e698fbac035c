/**
 * Whether a real broker answers on loopback, for tests that skip (with the reason printed) when
 * it does not. CI starts the brokers with peers/start-all.sh; on a machine without Java or
 * Debian packages they are simply absent.
 */
import { connect } from 'node:net';

export const PEERS = {
  kafka: { url: 'kafka://127.0.0.1:9092', port: 9092, start: 'bash peers/kafka/start.sh' },
  rabbitmq: { url: 'amqp://127.0.0.1:5672', port: 5672, start: 'bash peers/rabbitmq/start.sh' },
  rocketmq: { url: 'rocketmq://127.0.0.1:9876', port: 9876, start: 'bash peers/rocketmq/start.sh' },
} as const;

export type PeerName = keyof typeof PEERS;

function portOpen(port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    const done = (ok: boolean): void => { socket.destroy(); resolve(ok); };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** `false` when the broker is up, else the reason to print with the skip. */
export async function peerSkipReason(name: PeerName): Promise<string | false> {
  const p = PEERS[name];
  if (await portOpen(p.port)) return false;
  const reason = `${name} is not running at ${p.url} (start it with \`${p.start}\`, or all with \`bash peers/start-all.sh\`)`;
  console.log(`# SKIP ${reason}`);
  return reason;
}
