/**
 * `flotillad bootstrap-config --format cloud-init|ignition|coreos-cloudinit`:
 * the CLI edge of src/bootstrap. Inputs come from an input file (--inputs,
 * YAML or JSON with the keys of src/bootstrap/inputs.ts) and/or flags; flags
 * win. The bootstrap goes to stdout, or to --output, written mode 0600 when it
 * holds credentials (it then embeds etcd_password or a private key).
 */
import { readFileSync } from 'node:fs';
import { rename, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { Command, Option } from 'commander';
import { parseDocument } from 'yaml';
import { errorMessage, ExitCode, InvalidInputError } from '../util/errors.js';
import { exitCodeOf } from '../util/exit-codes.js';
import { holdsCredentials, resolveInputs, type RawInputs } from '../bootstrap/inputs.js';
import { FORMATS, renderBootstrap, type Format } from '../bootstrap/render.js';

interface BootstrapOptions {
  format: Format;
  inputs?: string;
  output?: string;
  etcdServers?: string;
  etcdKeyPrefix?: string;
  etcdCafile?: string;
  etcdCertfile?: string;
  etcdKeyfile?: string;
  etcdUsername?: string;
  etcdPassword?: string;
  metadata?: string;
  agentTtl?: string;
  publicIp?: string;
  afterburnVariable?: string;
  releaseUrl?: string;
  releaseSha256?: string;
  sshAuthorizedKey?: string[];
  set?: string[];
}

/** Flag -> input key; the flag is the key with - for _. */
const FLAG_INPUTS = {
  etcdServers: 'etcd_servers',
  etcdKeyPrefix: 'etcd_key_prefix',
  etcdCafile: 'etcd_cafile',
  etcdCertfile: 'etcd_certfile',
  etcdKeyfile: 'etcd_keyfile',
  etcdUsername: 'etcd_username',
  etcdPassword: 'etcd_password',
  metadata: 'metadata',
  agentTtl: 'agent_ttl',
  publicIp: 'public_ip',
  afterburnVariable: 'afterburn_variable',
  releaseUrl: 'release_url',
  releaseSha256: 'release_sha256',
} as const;

function readInputFile(path: string): RawInputs {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new InvalidInputError(`input file ${path} cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'}): pass an existing YAML or JSON file with --inputs`);
  }
  // Failsafe schema: every value is a string, as it will be in flotillad.conf; no 0644 read as
  // 420, no "on" read as true, no all-digit checksum read as a number.
  const doc = parseDocument(text, { schema: 'failsafe', prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    const line = e.linePos?.[0]?.line;
    throw new InvalidInputError(`input file ${path}${line ? ` line ${line}` : ''}: ${e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:$/, '')}: fix the YAML`);
  }
  const value: unknown = doc.toJS({ maxAliasCount: 10 });
  if (value === null || value === undefined) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw new InvalidInputError(`input file ${path} is not a map of inputs: write key: value lines such as etcd_servers: https://10.0.0.10:2379`);
  return value as RawInputs;
}

function rawFromFlags(opts: BootstrapOptions, base: RawInputs): RawInputs {
  const raw: RawInputs = { ...base };
  for (const [flag, key] of Object.entries(FLAG_INPUTS) as Array<[keyof typeof FLAG_INPUTS, (typeof FLAG_INPUTS)[keyof typeof FLAG_INPUTS]]>) {
    if (opts[flag] !== undefined) raw[key] = opts[flag];
  }
  if (opts.sshAuthorizedKey) raw.ssh_authorized_keys = opts.sshAuthorizedKey;
  if (opts.set) {
    const config: Record<string, unknown> = { ...((typeof base.config === 'object' && base.config) || {}) };
    for (const kv of opts.set) {
      const i = kv.indexOf('=');
      if (i <= 0) throw new InvalidInputError(`--set "${kv}" is not KEY=VALUE: give a flotillad.conf line such as --set verbosity=1`);
      config[kv.slice(0, i)] = kv.slice(i + 1);
    }
    raw.config = config;
  }
  return raw;
}

async function writeOutput(path: string, text: string, mode: number): Promise<void> {
  const tmp = resolve(dirname(path), `.${process.pid}.bootstrap.tmp`);
  try {
    await writeFile(tmp, text, { mode, flag: 'wx' });
    await rename(tmp, path);
  } catch (err) {
    throw new InvalidInputError(`cannot write ${path} (${(err as NodeJS.ErrnoException).code ?? errorMessage(err)}): give a writable --output path`);
  }
}

async function run(opts: BootstrapOptions): Promise<void> {
  const base = opts.inputs ? readInputFile(opts.inputs) : {};
  const inputs = resolveInputs(rawFromFlags(opts, base), {
    readFile: (p) => readFileSync(p, 'utf8'),
    baseDir: opts.inputs ? dirname(resolve(opts.inputs)) : process.cwd(),
  });
  const text = renderBootstrap(opts.format, inputs);
  if (opts.output) await writeOutput(opts.output, text, holdsCredentials(inputs) ? 0o600 : 0o644);
  else process.stdout.write(text);
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

export function bootstrapCommand(): Command {
  return new Command('bootstrap-config')
    .description('render a host bootstrap (cloud-init, Ignition or coreos-cloudinit) that installs the release and joins the cluster')
    .addOption(new Option('--format <format>', 'bootstrap format').choices(FORMATS).makeOptionMandatory())
    .option('--inputs <file>', 'input file (YAML or JSON) with the keys below written with _ (etcd_servers: ...); flags override it')
    .option('-o, --output <file>', 'write the bootstrap here (mode 0600 when it holds credentials) instead of stdout')
    .option('--etcd-servers <urls>', 'comma-separated etcd URLs')
    .option('--etcd-key-prefix <prefix>', 'etcd keyspace (default /flotilla/)')
    .option('--etcd-cafile <file>', 'PEM file of the CA that signed etcd\'s certificate (embedded)')
    .option('--etcd-certfile <file>', 'PEM client certificate (embedded)')
    .option('--etcd-keyfile <file>', 'PEM client key (embedded, written mode 0600)')
    .option('--etcd-username <name>', 'etcd user')
    .option('--etcd-password <password>', 'etcd password (visible to ps: prefer the input file)')
    .option('--metadata <k=v,...>', 'host metadata, e.g. region=eu,role=web')
    .option('--agent-ttl <duration>', 'agent TTL, e.g. 10s')
    .option('--public-ip <how>', 'auto (flotillad finds its address), $private_ipv4 or $public_ipv4 (metadata), or an IPv4 address')
    .option('--afterburn-variable <name>', 'Ignition: the /run/metadata/flatcar variable with the address, e.g. COREOS_EC2_IPV4_LOCAL')
    .option('--release-url <url>', 'http(s) URL of flotilla-<version>-linux-x64.tar.gz')
    .option('--release-sha256 <hex>', 'its SHA-256 (the .sha256 file\'s first field)')
    .option('--ssh-authorized-key <key>', 'an OpenSSH public key for flotctl ssh/status/journal (repeatable)', collect)
    .option('--set <key=value>', 'a further flotillad.conf line, e.g. --set verbosity=1 (repeatable)', collect)
    .exitOverride()
    .configureOutput({ writeErr: (text) => process.stderr.write(`${text.split('\n')[0]}\n`) })
    .action(async (opts: BootstrapOptions) => {
      try {
        await run(opts);
        process.exit(ExitCode.ok);
      } catch (err) {
        process.stderr.write(`flotillad bootstrap-config: ${errorMessage(err).split('\n')[0]}\n`);
        process.exit(exitCodeOf(err));
      }
    });
}
