/**
 * Which command of a service failed, in systemctl status's words: systemd
 * keeps the last run of each ExecStartPre=/ExecStart=/ExecStartPost= command
 * (type a(sasbttttuii): path, argv, ignore-failure, start and exit times, pid,
 * si_code, status), and the first one that did not succeed is the reason a
 * start failed ("ExecStartPre=/usr/bin/docker pull x exited with status 1").
 */
import type { BusConnection } from './bus.js';
import { unitObjectPath } from './object-path.js';
import { readProperty } from './unit-status.js';
import type { UnitPaths } from './unit-watch.js';
import { SERVICE_IFACE } from './types.js';

/** In the order systemd runs them: the first failure is the one that stopped the start. */
export const START_COMMAND_PROPERTIES = ['ExecStartPre', 'ExecStart', 'ExecStartPost'] as const;

// si_code values of waitid(2), as systemd stores them.
const CLD_EXITED = 1;
const CLD_KILLED = 2;
const CLD_DUMPED = 3;

/** Long argument lists (a docker run line) are cut: the reason is a one-liner. */
const MAX_COMMAND_CHARS = 160;

/** One decoded entry; anything not shaped like systemd's tuple is skipped. */
interface ExecRun {
  argv: string[];
  ignoreFailure: boolean;
  exitTimestamp: bigint;
  code: number;
  status: number;
}

function decodeRuns(raw: unknown): ExecRun[] {
  if (!Array.isArray(raw)) return [];
  const runs: ExecRun[] = [];
  for (const entry of raw) {
    if (!Array.isArray(entry) || entry.length < 10) continue;
    const [path, argv, ignore, , , exitTs, , , code, status] = entry as unknown[];
    if (typeof path !== 'string' || !Array.isArray(argv) || typeof code !== 'number' || typeof status !== 'number') continue;
    const args = argv.filter((a): a is string => typeof a === 'string');
    runs.push({
      argv: args.length > 0 ? [path, ...args.slice(1)] : [path],
      ignoreFailure: ignore === true,
      exitTimestamp: typeof exitTs === 'bigint' ? exitTs : BigInt(typeof exitTs === 'number' ? exitTs : 0),
      code,
      status,
    });
  }
  return runs;
}

function outcome(run: ExecRun): string | undefined {
  if (run.exitTimestamp === 0n) return undefined; // never ran, or still running
  if (run.code === CLD_EXITED) return run.status === 0 ? undefined : `exited with status ${run.status}`;
  if (run.code === CLD_KILLED || run.code === CLD_DUMPED) return `was killed by signal ${run.status}`;
  return undefined;
}

function shown(argv: readonly string[]): string {
  const line = argv.join(' ');
  return line.length <= MAX_COMMAND_CHARS ? line : `${line.slice(0, MAX_COMMAND_CHARS - 1)}…`;
}

/**
 * The first start command that failed (not one whose failure is ignored
 * with a `-` prefix), given each property's raw value; undefined when none did.
 */
export function describeFailedCommand(byProperty: ReadonlyMap<string, unknown>): string | undefined {
  for (const prop of START_COMMAND_PROPERTIES) {
    for (const run of decodeRuns(byProperty.get(prop))) {
      const how = run.ignoreFailure ? undefined : outcome(run);
      if (how !== undefined) return `${prop}=${shown(run.argv)} ${how}`;
    }
  }
  return undefined;
}

/** Read a service's start commands and name the one that failed (undefined for other unit types). */
export async function readFailedCommand(bus: BusConnection, paths: UnitPaths, name: string): Promise<string | undefined> {
  if (!name.endsWith('.service')) return undefined;
  const path = unitObjectPath(name);
  paths.remember(path, name);
  const values = await Promise.all(START_COMMAND_PROPERTIES.map((p) => readProperty(bus, path, SERVICE_IFACE, p)));
  return describeFailedCommand(new Map(START_COMMAND_PROPERTIES.map((p, i) => [p, values[i]])));
}
