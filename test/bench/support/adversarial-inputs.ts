/**
 * The inputs of bench:adversarial: each scenario is a cluster's worth of
 * units (100 by default) of one kind. First the cases issue 8 reported (now
 * refused at submit, and judged cheaply by engine and agents when they are
 * found in the store anyway), then the worst this project could construct
 * within the limits of src/unit/limits.ts: every unit at every limit its
 * kind allows, with patterns, names and hostnames built to make matching
 * retry as much as it can.
 */
import { UNIT_LIMITS } from '../../../src/unit/index.js';

export interface BenchUnit {
  name: string;
  text: string;
}

export interface Scenario {
  name: string;
  /** What it stands for. */
  about: string;
  units: BenchUnit[];
}

const SERVICE = '[Service]\nExecStart=/bin/sleep infinity\n';
const { xFleetValues, xFleetGlobs, xFleetGlobChars, hostPatternChars, conditionValueChars, conditions } = UNIT_LIMITS;

/** A long value written as continuation lines, as a user would have to. */
function continued(value: string): string {
  const lines: string[] = [];
  for (let i = 0; i < value.length; i += 1000) lines.push(value.slice(i, i + 1000));
  return lines.join('\\\n');
}

/** Unit names close to the 255-byte file name limit, alike for a long prefix, so patterns nearly match them. */
export function longName(i: number): string {
  const tail = `-${i}.service`;
  return `${'a'.repeat(250 - tail.length)}${tail}`;
}

/** Pairs of characters that longName() names contain, but never one after the other. */
const ABSENT_PAIRS = ['ea', 'sa', 'va', 'ia', 'ca', 'ra', '.a', 'es', 'ee', 'vv', 'ss', 'ii', 'cc', 'rr', 'a.', 'e-'];

/**
 * Go-glob patterns of at most `xFleetGlobChars` characters that match no
 * longName() name, each shaped to make matching work: a long class chunk, a
 * long literal chunk and a long `?` chunk searched along the whole name, many
 * short chunks. They end in a pair of characters the names contain (so no
 * quick check rejects them) but never in that order, then `*` (so the
 * failing chunk is searched for, not tried once at the end). `k` makes every
 * pattern distinct (no cache helps).
 */
export function slowGlob(k: number): string {
  const tag = ABSENT_PAIRS[k % ABSENT_PAIRS.length]!;
  const v = Math.floor(k / ABSENT_PAIRS.length) % 4; // lengths vary a little, so patterns differ
  const room = xFleetGlobChars - tag.length - 1;
  const shapes = [
    `*${'[a-z]'.repeat(Math.floor((room - 1) / 5) - v)}`,
    '*a?'.repeat(Math.floor(room / 3) - v),
    `*${'a'.repeat(room - 1 - v)}`,
    `*${'a'.repeat(Math.floor(room / 4) - 2 - v)}?`.repeat(4),
    `*${'?'.repeat(room - 1 - v)}`,
  ];
  const p = `${shapes[k % shapes.length]!}${tag}*`;
  if (p.length > xFleetGlobChars) throw new Error(`bench pattern over the limit: ${p.length}`);
  return p;
}

/**
 * A systemd fnmatch pattern of at most `hostPatternChars` characters that
 * makes the star walk retry as much as it can against LONG_HOSTNAME: half
 * the hostname matched from every start, by single-character brackets or by
 * few long ones.
 */
function slowHostPattern(k: number): string {
  const tag = String.fromCharCode(0x62 + (k % 20));
  const p = k % 2 === 0 ? `*${'[!b]'.repeat(31)}${tag}*` : `*${'[!bcdefghijklmnopqrstuvwxyz0123456789]'.repeat(6)}${tag}*`;
  if (p.length > hostPatternChars) throw new Error(`bench pattern over the limit: ${p.length}`);
  return p;
}

/** The host agents bid from: a 64-character hostname (HOST_NAME_MAX), all "a". */
export const LONG_HOSTNAME = 'a'.repeat(64);

function cluster(count: number, make: (i: number) => BenchUnit): BenchUnit[] {
  return Array.from({ length: count }, (_, i) => make(i));
}

function xfleet(lines: string[], extra = ''): string {
  return `[Unit]\nDescription=adversarial\n${extra}${SERVICE}\n[X-Fleet]\n${lines.join('\n')}\n`;
}

export function scenarios(units: number): Scenario[] {
  const globs = (i: number): string[] => Array.from({ length: xFleetGlobs }, (_, k) => slowGlob(i * xFleetGlobs + k));
  // The plain names a unit may list besides its globs: later units of the cluster (so Replaces stays acyclic).
  const plain = (i: number, key: string): string[] => Array.from({ length: xFleetValues - xFleetGlobs }, (_, k) => `${key}=${longName(i + k + 1)}`);
  return [
    {
      name: 'baseline',
      about: 'plain units with one Conflicts glob and one ConditionHost (the same-run baseline)',
      units: cluster(units, (i) => ({ name: `web-${i}.service`, text: xfleet(['Conflicts=web-*.service'], 'ConditionHost=host-*\n') })),
    },
    // --- reported in issue 8 (refused at submit now) ---
    {
      name: 'issue: ConditionHost=web-1',
      about: 'broke every bid ("Invalid escape")',
      units: cluster(units, (i) => ({ name: `web-${i}.service`, text: `[Unit]\nConditionHost=web-1\n${SERVICE}` })),
    },
    {
      name: 'issue: ConditionHost 12*X / 20*X',
      about: '67 s / 80 s per bid with a backtracking regex',
      units: cluster(units, (i) => ({ name: `h-${i}.service`, text: `[Unit]\nConditionHost=${'*'.repeat(i % 2 === 0 ? 12 : 20)}X\n${SERVICE}` })),
    },
    {
      name: 'issue: 38 KB Replaces',
      about: 'one engine match took 5.1 s',
      units: cluster(units, (i) => ({ name: `r-${i}.service`, text: xfleet([`Replaces=${continued(`a?${'b'.repeat(38 * 1024)}${i}`)}`]) })),
    },
    {
      name: 'issue: 9.5 KB Replaces over 21 units',
      about: 'ReplaceGraph.build took 1 s',
      units: cluster(units, (i) => ({ name: `r-${i}.service`, text: xfleet([`Replaces=${continued(`r-${i % 21}?${'b'.repeat(450)}`)}`]) })),
    },
    {
      name: 'issue: 200 KB MachineOf',
      about: 'client validation took 102 s',
      units: cluster(units, (i) => ({ name: `m-${i}.service`, text: xfleet([`MachineOf=${continued(`p${'x'.repeat(200 * 1024)}${i}.service`)}`, 'Conflicts=*y']) })),
    },
    {
      name: 'issue: 1e5 options (LF)',
      about: 'the lexer took 1 s (quadratic on LF files)',
      units: cluster(Math.min(units, 10), (i) => ({ name: `o-${i}.service`, text: `${SERVICE}${'Environment=A=b\n'.repeat(100_000)}X=${i}\n` })),
    },
    {
      name: 'issue: value ending in "\\ "',
      about: 'validated with Conflicts, stored without',
      units: cluster(units, (i) => ({ name: `t-${i}.service`, text: xfleet(['Global=false \\ ', `Conflicts=db${i}*.service`]) })),
    },
    // --- the worst within the limits ---
    {
      name: 'max: 16 Conflicts globs + 48 names',
      about: 'slow globs against 250-character names, every unit',
      units: cluster(units, (i) => ({ name: longName(i), text: xfleet([...globs(i).map((g) => `Conflicts=${g}`), ...plain(i, 'Conflicts')]) })),
    },
    {
      name: 'max: 16 Replaces globs + 48 names',
      about: 'slow globs against 250-character names, every unit (the Replaces graph)',
      units: cluster(units, (i) => ({ name: longName(i), text: xfleet([...globs(i).map((g) => `Replaces=${g}`), ...plain(i, 'Replaces')]) })),
    },
    {
      name: 'max: 64 MachineOf x 16 Conflicts globs',
      about: 'client-side peer-vs-conflict check (1,024 matches per unit)',
      units: cluster(units, (i) => ({
        name: longName(i),
        text: xfleet([...Array.from({ length: xFleetValues }, (_, k) => `MachineOf=${longName(1000 + i * xFleetValues + k)}`), ...globs(i).map((g) => `Conflicts=${g}`)]),
      })),
    },
    {
      name: 'max: 64 ConditionHost x 256 chars',
      about: 'fnmatch against a 64-character hostname',
      units: cluster(units, (i) => ({
        name: `c-${i}.service`,
        text: `[Unit]\n${Array.from({ length: conditions }, (_, k) => `ConditionHost=|${slowHostPattern(i + k)}`).join('\n')}\n${SERVICE}`,
      })),
    },
    {
      name: 'max: 64 ConditionPathExists x 1 KiB',
      about: '64 distinct path checks per unit',
      units: cluster(units, (i) => ({
        name: `p-${i}.service`,
        text: `[Unit]\n${Array.from({ length: conditions }, (_, k) => `ConditionPathExists=|${`/${`d${i}-${k}/`.repeat(conditionValueChars / 4)}`.slice(0, conditionValueChars - 1)}`).join('\n')}\n${SERVICE}`,
      })),
    },
    {
      name: 'max: 256 KiB, 4096 options',
      about: 'the biggest file accepted',
      units: cluster(units, (i) => ({ name: `f-${i}.service`, text: `${SERVICE}${Array.from({ length: UNIT_LIMITS.options - 2 }, (_, k) => `Environment=V${k}=${'v'.repeat(44)}`).join('\n')}\nX=${i}\n` })),
    },
  ];
}
