/**
 * Does the store answer this connection, with its credentials? One read of
 * the machine keys, bounded by a deadline: a refusal (certificate, password,
 * permission) rejects with etcd's error for explainStoreError to name; no
 * answer in time rejects as well.
 */
import type { Registry } from './registry.js';

export async function probeStore(registry: Registry, timeoutMs: number): Promise<void> {
  await registry.etcd.get(registry.keys.machinesPrefix).options({ deadline: Date.now() + timeoutMs }).exec();
}
