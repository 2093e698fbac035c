/** Listening TCP sockets from /proc: which addresses a process (by pid) listens on. Linux only. */
import * as fs from 'node:fs';

export interface ListenSocket {
  address: string;
  port: number;
  inode: number;
  loopback: boolean;
}

function decodeAddress(hex: string): { address: string; loopback: boolean } {
  if (hex.length === 8) {
    const b = Buffer.from(hex, 'hex').reverse();  // /proc prints IPv4 in host (little-endian) order
    return { address: [...b].join('.'), loopback: b[0] === 127 };
  }
  // IPv6: four 32-bit words, each in host order.
  const words = hex.match(/.{8}/g)!.map((w) => Buffer.from(w, 'hex').reverse());
  const bytes = Buffer.concat(words);
  const isV4Mapped = bytes.subarray(0, 10).every((x) => x === 0) && bytes[10] === 0xff && bytes[11] === 0xff;
  const isLoop6 = bytes.subarray(0, 15).every((x) => x === 0) && bytes[15] === 1;
  const groups = (bytes.toString('hex').match(/.{4}/g) ?? []).join(':');
  if (isV4Mapped) return { address: `::ffff:${[...bytes.subarray(12)].join('.')}`, loopback: bytes[12] === 127 };
  return { address: groups, loopback: isLoop6 };
}

/** Every LISTEN socket in this network namespace (IPv4 and IPv6). */
export function listeningSockets(): ListenSocket[] {
  const out: ListenSocket[] = [];
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 10 || f[3] !== '0A') continue;  // 0A = LISTEN
      const [addrHex, portHex] = f[1]!.split(':');
      out.push({ ...decodeAddress(addrHex!), port: parseInt(portHex!, 16), inode: Number(f[9]) });
    }
  }
  return out;
}

/** Socket inodes a process holds (from /proc/<pid>/fd); empty if it is gone or not ours to read. */
export function socketInodesOf(pid: number): Set<number> {
  const inodes = new Set<number>();
  let fds: string[];
  try {
    fds = fs.readdirSync(`/proc/${pid}/fd`);
  } catch {
    return inodes;
  }
  for (const fd of fds) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(fs.readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) inodes.add(Number(m[1]));
    } catch {
      // closed meanwhile
    }
  }
  return inodes;
}

/** The LISTEN sockets of one process (and its threads). */
export function listeningSocketsOf(pid: number): ListenSocket[] {
  const mine = socketInodesOf(pid);
  return listeningSockets().filter((s) => mine.has(s.inode));
}
