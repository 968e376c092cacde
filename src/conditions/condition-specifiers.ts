/**
 * systemd expands specifiers in Condition and Assert values when it loads
 * the unit (unit_full_printf), so a bid must expand them the same way before
 * judging a line: `ConditionPathExists=/etc/app/%i.conf` depends on the
 * instance being offered. Only specifiers this agent can know for certain are
 * expanded; a value using another one is left to systemd at start time.
 */
import { parseUnitName } from '../unit/index.js';

/** What the expansion needs from the host. */
export interface SpecifierHost {
  hostname: string;
  machineId: string;
  architecture: string;
  /**
   * %h: the service manager's home (the agent runs under the same manager,
   * so its own HOME is systemd's %h for units without User=).
   */
  home?: string;
}

/**
 * `expanded`: the value systemd will see. `ignored`: systemd drops the line
 * (unknown specifier). `unknown`: a specifier only systemd can resolve.
 */
export type Expansion = { kind: 'expanded'; value: string } | { kind: 'ignored' } | { kind: 'unknown' };

// Specifiers systemd knows but whose value depends on the service manager
// (user, runtime directories, boot id, os-release, ...), not on this agent.
const UNRESOLVABLE = new Set([...'bBCdEghGLMoqsStTuUvVwWyYA']);

export function expandConditionSpecifiers(value: string, unitName: string, host: SpecifierHost): Expansion {
  if (!value.includes('%')) return { kind: 'expanded', value };
  const name = nameParts(unitName);
  const table: Record<string, string> = {
    '%': '%',
    n: name.full,
    N: name.withoutSuffix,
    p: name.prefix,
    P: unescape(name.prefix),
    i: name.instance,
    I: unescape(name.instance),
    j: name.lastComponent,
    J: unescape(name.lastComponent),
    f: `/${unescape(name.instance !== '' ? name.instance : name.prefix)}`,
    H: host.hostname,
    l: host.hostname.split('.')[0] ?? host.hostname,
    m: host.machineId,
    a: host.architecture,
    ...(host.home !== undefined ? { h: host.home } : {}),
  };
  let out = '';
  for (let i = 0; i < value.length; i++) {
    const ch = value[i] as string;
    if (ch !== '%' || i === value.length - 1) {
      out += ch;
      continue;
    }
    const spec = value[++i] as string;
    const v = Object.hasOwn(table, spec) ? table[spec] : undefined;
    if (v !== undefined) out += v;
    else if (UNRESOLVABLE.has(spec)) return { kind: 'unknown' };
    else return { kind: 'ignored' };
  }
  return { kind: 'expanded', value: out };
}

interface NameParts {
  full: string;
  withoutSuffix: string;
  prefix: string;
  instance: string;
  /** %j: the prefix after its last dash. */
  lastComponent: string;
}

function nameParts(unitName: string): NameParts {
  const info = unitName.includes('.') ? parseUnitName(unitName) : { name: unitName, prefix: unitName, instance: '' };
  const dash = info.prefix.lastIndexOf('-');
  return {
    full: unitName,
    withoutSuffix: info.name,
    prefix: info.prefix,
    instance: info.instance,
    lastComponent: dash >= 0 ? info.prefix.slice(dash + 1) : info.prefix,
  };
}

/** systemd's unit_name_unescape: `-` is `/`, `\xNN` is that byte. */
function unescape(s: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const ch = s[i] as string;
    const hex = ch === '\\' && s[i + 1] === 'x' ? s.slice(i + 2, i + 4) : '';
    if (/^[0-9a-fA-F]{2}$/.test(hex)) {
      bytes.push(parseInt(hex, 16));
      i += 3;
    } else if (ch === '-') {
      bytes.push(0x2f);
    } else {
      bytes.push(...Buffer.from(ch, 'utf8'));
    }
  }
  return Buffer.from(bytes).toString('utf8');
}
