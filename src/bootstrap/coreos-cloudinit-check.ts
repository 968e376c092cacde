/**
 * coreos-cloudinit is not packaged anywhere we can install it, so this is a
 * checker for its documented keys and rules (coreos-cloudinit's
 * config/config.go types and config/validate rules), run on our rendered
 * coreos-cloudinit.yaml by the tests. Like `coreos-cloudinit -validate` it
 * reports `line N: error|warning|info: message` and a file passes only with no
 * entry at all.
 *
 * Rules: the header (`#cloud-config`, or `#!` for a script); YAML syntax, read
 * as YAML 1.1 as go-yaml v1 reads it (so an unquoted `permissions: 0644` is the
 * integer 420); key names with `-` matched as `_`; unknown keys, wrong types
 * and deprecated keys are warnings; `valid:` patterns (permissions, encoding,
 * command, ...), undecodable content and files under /usr are errors.
 *
 * Also here, what it does to user-data before parsing: `$private_ipv4` and
 * friends replaced in the raw text (`\$private_ipv4` stays literal).
 */
import { gunzipSync } from 'node:zlib';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node, type Pair } from 'yaml';

export interface CheckEntry {
  line: number;
  level: 'error' | 'warning' | 'info';
  message: string;
}

type Kind = 'string' | 'bool' | 'int' | 'float';
interface Field {
  kind?: Kind;
  list?: Kind | Struct;
  struct?: Struct;
  /** Any map (a deprecated section we do not look inside). */
  anyMap?: boolean;
  valid?: RegExp;
  deprecated?: string;
}
type Struct = Record<string, Field>;

const s: Field = { kind: 'string' };
const b: Field = { kind: 'bool' };

const FILE: Struct = {
  path: s,
  content: s,
  permissions: { kind: 'string', valid: /^0?[0-7]{3,4}$/ },
  owner: s,
  encoding: { kind: 'string', valid: /^(base64|b64|gz|gzip|gz\+base64|gzip\+base64|gz\+b64|gzip\+b64)$/ },
};

const UNIT: Struct = {
  name: s,
  content: s,
  enable: b,
  runtime: b,
  mask: b,
  command: { kind: 'string', valid: /^(start|stop|restart|reload|try-restart|reload-or-restart|reload-or-try-restart)$/ },
  drop_ins: { list: { name: s, content: s } },
};

const USER: Struct = {
  name: s,
  gecos: s,
  passwd: s,
  homedir: s,
  no_create_home: b,
  primary_group: s,
  groups: { list: 'string' },
  no_user_group: b,
  ssh_authorized_keys: { list: 'string' },
  coreos_ssh_import_github: { kind: 'string', deprecated: 'trusting github keys is dangerous' },
  coreos_ssh_import_github_users: { list: 'string', deprecated: 'trusting github keys is dangerous' },
  coreos_ssh_import_url: { kind: 'string', deprecated: 'trusting remote keys is dangerous' },
  system: b,
  no_log_init: b,
  shell: s,
};

const NOT_SHIPPED = 'no longer shipped in Container Linux';
const COREOS: Struct = {
  etcd: { anyMap: true, deprecated: `etcd is ${NOT_SHIPPED}` },
  etcd2: { anyMap: true, deprecated: `etcd2 is ${NOT_SHIPPED}` },
  fleet: { anyMap: true, deprecated: `fleet is ${NOT_SHIPPED}` },
  flannel: { anyMap: true },
  locksmith: { struct: { endpoint: s, etcd_cafile: s, etcd_certfile: s, etcd_keyfile: s, group: s, window_start: s, window_length: s } },
  oem: { struct: { id: s, name: s, version_id: s, home_url: s, bug_report_url: s } },
  update: { struct: { reboot_strategy: { kind: 'string', valid: /^(best-effort|etcd-lock|reboot|off)$/ }, group: s, server: s } },
  units: { list: UNIT },
};

const TOP: Struct = {
  coreos: { struct: COREOS },
  ssh_authorized_keys: { list: 'string' },
  hostname: s,
  users: { list: USER },
  write_files: { list: FILE },
  manage_etc_hosts: { kind: 'string', valid: /^localhost$/ },
};

export function checkCoreosCloudConfig(text: string): CheckEntry[] {
  const entries: CheckEntry[] = [];
  const first = (text.split('\n')[0] ?? '').trimEnd();
  if (first.startsWith('#!')) return entries;
  if (first !== '#cloud-config') {
    entries.push({ line: 1, level: 'error', message: 'must be "#cloud-config" or begin with "#!"' });
    return entries;
  }
  const lc = new LineCounter();
  const doc = parseDocument(text, { version: '1.1', lineCounter: lc, uniqueKeys: false, prettyErrors: true });
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    entries.push({ line: e.linePos?.[0]?.line ?? 1, level: 'error', message: e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:$/, '') });
    return entries;
  }
  const lineOf = (n: { range?: [number, number, number] | null } | null | undefined): number => (n?.range ? lc.linePos(n.range[0]).line : 1);
  const root = doc.contents;
  if (root === null) return entries;
  if (!isMap(root)) {
    entries.push({ line: lineOf(root), level: 'warning', message: 'incorrect type for "" (want struct)' });
    return entries;
  }
  const add = (node: Node | Pair | null | undefined, level: CheckEntry['level'], message: string): void => {
    const n = node && 'key' in node ? (node.key as Node) : node;
    entries.push({ line: lineOf(n as Node | undefined), level, message });
  };

  const checkStruct = (node: Node, struct: Struct, path: string): void => {
    if (!isMap(node)) {
      add(node, 'warning', `incorrect type for "${path}" (want struct)`);
      return;
    }
    for (const pair of node.items) {
      const rawKey = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
      const key = rawKey.replaceAll('-', '_');
      const field = struct[key];
      const fieldPath = path ? `${path}.${key}` : key;
      if (field === undefined) {
        if (path === 'coreos' && key === 'write_files') add(pair, 'info', `write_files doesn't belong under coreos`);
        else add(pair, 'warning', `unrecognized key "${key}"`);
        continue;
      }
      if (field.deprecated) add(pair, 'warning', `deprecated key "${key}" (${field.deprecated})`);
      checkField(pair.value as Node | null, field, fieldPath, pair);
    }
  };

  const checkKind = (node: Node | null, kind: Kind, path: string, at: Node | Pair): boolean => {
    if (node === null || (isScalar(node) && node.value === null)) return false;
    const v = isScalar(node) ? node.value : undefined;
    const ok =
      (kind === 'string' && typeof v === 'string') ||
      (kind === 'bool' && typeof v === 'boolean') ||
      (kind === 'int' && typeof v === 'number' && Number.isInteger(v)) ||
      (kind === 'float' && typeof v === 'number');
    if (!ok) add(at, 'warning', `incorrect type for "${path}" (want ${kind})`);
    return ok;
  };

  const checkField = (node: Node | null, field: Field, path: string, at: Node | Pair): void => {
    if (node === null) return;
    if (field.kind) {
      if (checkKind(node, field.kind, path, at) && field.valid && isScalar(node) && !field.valid.test(String(node.value))) {
        add(at, 'error', `invalid value ${String(node.value)}`);
      }
      return;
    }
    if (field.anyMap) {
      if (!isMap(node)) add(at, 'warning', `incorrect type for "${path}" (want struct)`);
      return;
    }
    if (field.struct) {
      checkStruct(node, field.struct, path);
      return;
    }
    if (field.list) {
      if (!isSeq(node)) {
        add(at, 'warning', `incorrect type for "${path}" (want []${typeof field.list === 'string' ? field.list : 'struct'})`);
        return;
      }
      node.items.forEach((item, i) => {
        const itemPath = `${path}[${i}]`;
        if (typeof field.list === 'string') checkKind(item as Node, field.list, itemPath, item as Node);
        else checkStruct(item as Node, field.list!, itemPath);
      });
    }
  };

  checkStruct(root, TOP, '');

  // Rules across fields, on the values as go-yaml reads them.
  const value = doc.toJS() as { write_files?: unknown; coreos?: { units?: unknown } };
  const seqItems = (n: unknown): Node[] => (isSeq(n) ? (n.items as Node[]) : []);
  seqItems(root.get('write_files', true)).forEach((fileNode, i) => {
    const f = (Array.isArray(value.write_files) ? value.write_files[i] : undefined) as Record<string, unknown> | undefined;
    if (!f || typeof f !== 'object') return;
    const path = typeof f.path === 'string' ? f.path : '';
    if (path === '') add(fileNode, 'error', `write_files[${i}] has no path`);
    if (path === '/usr' || path.startsWith('/usr/')) add(fileNode, 'error', `file ${path} is in a read-only filesystem`);
    if (typeof f.encoding === 'string' && typeof f.content === 'string' && !decodes(f.content, f.encoding)) {
      add(fileNode, 'error', `content of ${path} cannot be decoded as "${f.encoding}"`);
    }
  });
  const coreosNode = root.get('coreos', true);
  const unitNodes = isMap(coreosNode) ? seqItems(coreosNode.get('units', true)) : [];
  unitNodes.forEach((unitNode, i) => {
    const u = (Array.isArray(value.coreos?.units) ? value.coreos.units[i] : undefined) as Record<string, unknown> | undefined;
    if (!u || typeof u !== 'object') return;
    if (typeof u.name !== 'string' || u.name === '') add(unitNode, 'error', `coreos.units[${i}] has no name`);
    if (u.enable === true && typeof u.content === 'string' && !/^\[Install\]\s*$/m.test(u.content)) {
      add(unitNode, 'warning', `unit ${String(u.name)} is enabled but its content has no [Install] section`);
    }
  });
  return entries.sort((x, y) => x.line - y.line);
}

export function formatCheckEntries(entries: CheckEntry[]): string[] {
  return entries.map((e) => `line ${e.line}: ${e.level}: ${e.message}`);
}

function decodes(content: string, encoding: string): boolean {
  const b64 = encoding.includes('b64') || encoding.includes('base64');
  const gz = encoding.startsWith('gz');
  let data: Buffer;
  if (b64) {
    const compact = content.replace(/\s+/g, '');
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(compact) || compact.length % 4 !== 0) return false;
    data = Buffer.from(compact, 'base64');
  } else data = Buffer.from(content, 'latin1');
  if (!gz) return true;
  try {
    gunzipSync(data);
    return true;
  } catch {
    return false;
  }
}

export interface CoreosAddresses {
  public_ipv4?: string;
  private_ipv4?: string;
  public_ipv6?: string;
  private_ipv6?: string;
}

/**
 * What coreos-cloudinit does to the raw user-data before parsing it: each
 * `$public_ipv4`-style word becomes the datasource's address (when it has
 * one); `\$word` is the literal word.
 */
export function substituteCoreosAddresses(text: string, addresses: CoreosAddresses): string {
  return text.replace(/(\\?)\$(public_ipv4|private_ipv4|public_ipv6|private_ipv6)/g, (m, escaped: string, name: keyof CoreosAddresses) => {
    if (escaped) return `$${name}`;
    return addresses[name] ?? m;
  });
}
