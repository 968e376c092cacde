/**
 * Readiness of a dev cluster: every host's agent has registered its machine
 * key in etcd. Polling etcd is cheap; asking each host's systemd is not
 * (a systemctl process each), so the unit state is checked only now and then,
 * to fail fast with the agent's own log when flotillad cannot start at all.
 */
import { leadingCandidate } from '../engine/leader-rule.js';
import { readFile } from 'node:fs/promises';
import { delay } from '../util/deadline.js';
import { FlotillaError } from '../util/errors.js';
import { Keys } from '../registry/keys.js';
import { connectStore, type StoreOptions } from '../registry/store.js';

export interface AgentWaitTarget {
  name: string;
  machineId: string;
  /** Where its log is, for messages (a file, or how to read the host's journal). */
  logHint: string;
  /** Its last log lines. */
  logTail: () => Promise<string>;
  /** ActiveState of flotillad.service on that host ('failed' ends the wait). */
  unitState: () => Promise<string>;
}

const STATE_CHECK_EVERY_MS = 1_000;

/** The last lines of a log file, for AgentWaitTarget.logTail. */
export async function fileTail(path: string): Promise<string> {
  const text = await readFile(path, 'utf8').catch(() => '');
  return text.trim().split('\n').slice(-3).join(' | ') || '(empty log)';
}

export async function waitForAgents(
  store: StoreOptions,
  prefix: string,
  targets: AgentWaitTarget[],
  timeoutMs: number,
  /** Only keys written after this revision count: a rebooted host's old key may outlive its lease for a while. */
  afterRevision = 0,
): Promise<void> {
  const machinesPrefix = new Keys(prefix).machinesPrefix;
  const client = connectStore(store);
  const deadline = Date.now() + timeoutMs;
  let nextStateCheck = Date.now() + STATE_CHECK_EVERY_MS;
  let missing = targets;
  try {
    for (;;) {
      try {
        const res = await client.getAll().prefix(machinesPrefix).exec();
        const keys = new Set(res.kvs.filter((kv) => Number(kv.mod_revision) > afterRevision).map((kv) => kv.key.toString()));
        missing = missing.filter((t) => !keys.has(machinesPrefix + t.machineId));
      } catch {
        // etcd briefly unavailable (e.g. a member restarting): keep waiting
      }
      if (missing.length === 0) return;
      if (Date.now() >= nextStateCheck) {
        nextStateCheck = Date.now() + STATE_CHECK_EVERY_MS;
        for (const t of missing) {
          if ((await t.unitState()) === 'failed') {
            throw new FlotillaError(`flotillad on ${t.name} failed to start: ${await t.logTail()}`);
          }
        }
      }
      if (Date.now() > deadline) {
        const names = missing.map((t) => `${t.name} (${t.logHint})`).join(', ');
        throw new FlotillaError(`agents did not register in etcd within ${timeoutMs} ms: ${names}`);
      }
      await delay(50);
    }
  } finally {
    client.close();
  }
}

/** The store's current revision, to tell keys written from now on from older ones (read under `prefix`, which a scoped etcd user may read). */
export async function currentRevision(store: StoreOptions, prefix: string): Promise<number> {
  const client = connectStore(store);
  try {
    const res = await client.get(prefix).exec();
    return Number(res.header.revision);
  } finally {
    client.close();
  }
}

/**
 * Machine id of the elected engine: the value of the candidate key with the
 * lowest create revision (the election rule in src/engine/election.ts), or
 * undefined when there is no candidate.
 */
export async function engineMachine(store: StoreOptions, prefix: string): Promise<string | undefined> {
  // The store's client, not a bare one: it moves past a dead member instead of failing on it.
  const client = connectStore(store);
  try {
    const res = await client.getAll().prefix(new Keys(prefix).electionPrefix).exec();
    return leadingCandidate(res.kvs.map((kv) => ({ createRevision: Number(kv.create_revision), value: kv.value.toString() })))?.value;
  } finally {
    client.close();
  }
}
