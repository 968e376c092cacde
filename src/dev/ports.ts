/**
 * Free loopback ports for etcd members. Drawn from below the kernel's
 * ephemeral range (32768+) so an outgoing connection cannot take one between
 * our check and etcd's bind; a system etcd on 2379/2380 is simply skipped.
 */
import { createServer } from 'node:net';

const LOW = 20_000;
const HIGH = 32_000;

export function portIsFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen({ port, host, exclusive: true }, () => srv.close(() => resolve(true)));
  });
}

export async function freePorts(count: number): Promise<number[]> {
  const picked = new Set<number>();
  for (let tries = 0; picked.size < count; tries++) {
    if (tries > 1000) throw new Error(`no ${count} free loopback ports found in ${LOW}-${HIGH}`);
    const port = LOW + Math.floor(Math.random() * (HIGH - LOW));
    if (!picked.has(port) && (await portIsFree(port))) picked.add(port);
  }
  return [...picked];
}
