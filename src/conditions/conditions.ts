/**
 * Judges a unit's systemd Condition and Assert lists on this host before
 * bidding, so a unit whose conditions cannot hold here is refused instead of
 * being placed here and silently skipped (or failed) by systemd.
 *
 * The semantics are systemd's (systemd.unit(5), condition.c): every
 * non-triggering line must hold, and if there are triggering (`|`) lines at
 * least one of them must; `!` inverts a line, except that a line that cannot
 * be evaluated (bad size, ...) counts as failed. Checks this agent cannot
 * judge as systemd would (ConditionSecurity=, ConditionNeedsUpdate=, specifiers
 * only the service manager knows, ...) are left to systemd at start time: they
 * never cause a refusal.
 */
import { constants } from 'node:fs';
import { access, lstat, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path/posix';
import {
  PATH_CONDITION_CHECKS,
  conditionValueProblem,
  overLimitReason,
  simplifyConditionPath,
  type UnitCondition,
  type UnitConditions,
} from '../unit/index.js';
import { expandConditionSpecifiers } from './condition-specifiers.js';
import { compareWith, isHiddenOrBackup, parseBoolean, parseSize, parseUnsigned, splitKernelCommandLine } from './condition-values.js';
import { fnmatch } from './fnmatch.js';
import type { HostFacts } from './host-facts.js';

/**
 * `ignored`: systemd drops the line when loading the unit. `unknown`: only
 * systemd can tell. `refuse`: this host will not judge it (over a limit once
 * specifiers are expanded here), so it refuses the unit.
 */
type Verdict = boolean | 'ignored' | 'unknown' | { refuse: string };

/** A check's raw result, before negation; `error` fails the line whatever its negation. */
type Raw = boolean | 'error' | 'ignored' | 'unknown';

/** Why the unit's conditions or asserts fail on this host, or undefined if they hold or only systemd can tell. */
export async function conditionsRefusal(parsed: UnitConditions, unitName: string, host: HostFacts): Promise<string | undefined> {
  return (await listRefusal(parsed.conditions, unitName, host)) ?? (await listRefusal(parsed.asserts, unitName, host));
}

async function listRefusal(list: readonly UnitCondition[], unitName: string, host: HostFacts): Promise<string | undefined> {
  const verdicts = await Promise.all(list.map((c) => verdict(c, unitName, host)));
  const refused = verdicts.find((v): v is { refuse: string } => typeof v === 'object');
  if (refused !== undefined) return refused.refuse;
  const triggers: string[] = [];
  let triggerMayHold = false;
  for (let i = 0; i < list.length; i++) {
    const c = list[i] as UnitCondition;
    const v = verdicts[i] as Verdict;
    if (v === 'ignored') continue;
    if (c.trigger) {
      triggers.push(c.line);
      if (v !== false) triggerMayHold = true;
    } else if (v === false) {
      return `${c.line} failed`;
    }
  }
  if (triggers.length === 0 || triggerMayHold) return undefined;
  return triggers.length === 1 ? `${triggers[0]} failed` : `none of ${triggers.join(', ')} held`;
}

/** One line's result on this host, negation applied. */
async function verdict(c: UnitCondition, unitName: string, host: HostFacts): Promise<Verdict> {
  const expanded = expandConditionSpecifiers(c.parameter, unitName, host);
  if (expanded.kind !== 'expanded') return expanded.kind;
  let param = expanded.value;
  // Checked as written at submit; specifiers can make a value longer on this host.
  const tooLong = param === c.parameter ? undefined : conditionValueProblem(c.check, `${c.kind}${c.check}`, param);
  if (tooLong !== undefined) return { refuse: `${overLimitReason(tooLong)} (specifiers expanded)` };
  if (PATH_CONDITION_CHECKS.has(c.check)) {
    const simple = simplifyConditionPath(param);
    if (simple === undefined) return 'ignored';
    param = simple;
  }
  const raw = await test(c.check, param, host);
  if (raw === 'error') return false;
  if (raw === 'ignored' || raw === 'unknown') return raw;
  return raw !== c.negate;
}

async function test(check: string, param: string, host: HostFacts): Promise<Raw> {
  switch (check) {
    case 'Architecture':
      return param === 'native' || param === host.architecture;
    case 'Host':
      return testHost(param, host);
    case 'KernelCommandLine':
      return testKernelCommandLine(param, splitKernelCommandLine(host.kernelCommandLine));
    case 'Memory':
      return compareWith(param, host.memoryBytes, parseSize) ?? 'error';
    case 'CPUs':
      return compareWith(param, host.cpus, parseUnsigned) ?? 'error';
    case 'Environment':
      return testEnvironment(param, host.environment);
    case 'Null':
      // Parsed when the unit loads: anything but a boolean drops the line.
      return parseBoolean(param) ?? 'ignored';
    case 'PathExists':
    case 'PathIsDirectory':
    case 'PathIsSymbolicLink':
    case 'FileNotEmpty':
    case 'FileIsExecutable':
    case 'DirectoryNotEmpty':
      return pathCheck(check, underRoot(host.root, param), host);
    default:
      return 'unknown';
  }
}

const ID128 = /^(?:[0-9a-f]{32}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/i;

/**
 * A machine id (plain or UUID form) is compared with this machine's id only,
 * as systemd does; anything else is a hostname glob, case-insensitive.
 */
function testHost(param: string, host: HostFacts): boolean {
  if (ID128.test(param)) return param.replaceAll('-', '').toLowerCase() === host.machineId.toLowerCase();
  return fnmatch(param, host.hostname, { caseFold: true });
}

/** `word` is set as is or as the left side of an assignment; `key=value` must appear exactly. */
function testKernelCommandLine(param: string, words: readonly string[]): boolean {
  if (param.includes('=')) return words.includes(param);
  return words.some((w) => w === param || w.startsWith(`${param}=`));
}

function testEnvironment(param: string, env: Readonly<Record<string, string>>): boolean {
  const eq = param.indexOf('=');
  if (eq < 0) return Object.hasOwn(env, param);
  const name = param.slice(0, eq);
  return Object.hasOwn(env, name) && env[name] === param.slice(eq + 1);
}

/** Host paths live under `root`; an absolute path never climbs out of it (`/..` is `/`). */
function underRoot(root: string, path: string): string {
  if (root === '/' || root === '') return path;
  const inside = path.split('/').reduce<string[]>((acc, part) => {
    if (part === '..') acc.pop();
    else if (part !== '') acc.push(part);
    return acc;
  }, []);
  return join(root, ...inside);
}

/**
 * One HostFacts value is the host at one moment (one bid): a path check made
 * under it is made once, however many offered units ask the same question.
 */
const pathChecks = new WeakMap<HostFacts, Map<string, Promise<boolean>>>();

function pathCheck(check: string, path: string, host: HostFacts): Promise<boolean> {
  let made = pathChecks.get(host);
  if (!made) pathChecks.set(host, (made = new Map()));
  const key = `${check}\0${path}`;
  let result = made.get(key);
  if (!result) made.set(key, (result = testPath(check, path)));
  return result;
}

async function testPath(check: string, path: string): Promise<boolean> {
  try {
    switch (check) {
      case 'PathExists':
        await access(path, constants.F_OK);
        return true;
      case 'PathIsDirectory':
        return (await stat(path)).isDirectory();
      case 'PathIsSymbolicLink':
        return (await lstat(path)).isSymbolicLink();
      case 'FileNotEmpty': {
        const st = await stat(path);
        return st.isFile() && st.size > 0;
      }
      case 'FileIsExecutable': {
        const st = await stat(path);
        return st.isFile() && (st.mode & 0o111) !== 0;
      }
      case 'DirectoryNotEmpty':
        return (await readdir(path)).some((name) => !isHiddenOrBackup(name));
      default:
        return false;
    }
  } catch (err) {
    // systemd counts a directory it may not read as not empty; every other check fails on any error.
    const code = (err as NodeJS.ErrnoException).code;
    return check === 'DirectoryNotEmpty' && code !== 'ENOENT' && code !== 'ENOTDIR';
  }
}
