/**
 * The root filesystem booted hosts start from: Debian bookworm made by
 * mmdebstrap, built once per machine into /var/cache/flotilla/rootfs-<hash
 * of the recipe> and never written afterwards (every host mounts it as the
 * lower layer of its own overlay). A changed recipe gets a new directory.
 *
 * Builders on one machine (parallel test files, other checkouts) take a
 * flock on rootfs-<hash>.lock; the winner builds into a temporary directory
 * and renames it into place, so nobody ever sees half a rootfs, and the
 * others find it done when they get the lock.
 */
import { createHash } from 'node:crypto';
import { access, mkdir, open, readFile } from 'node:fs/promises';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { FlotillaError } from '../../util/errors.js';
import { findExecutable } from '../exec.js';

export const ROOTFS_CACHE = '/var/cache/flotilla';

/**
 * What a booted host needs: systemd as PID 1 with the system bus, sshd for
 * flotctl status/journal/ssh, cloud-init for the bootstrap tests, and curl
 * with CA certificates for a bootstrap that downloads the release.
 */
export const ROOTFS_PACKAGES: readonly string[] = [
  'systemd', 'systemd-sysv', 'dbus', 'iproute2', 'openssh-server', 'cloud-init', 'ca-certificates', 'curl',
];

export interface RootfsRecipe {
  suite: string;
  variant: string;
  packages: readonly string[];
  /** Run in the finished tree ($1 is its path), before it is renamed into place. */
  customize: readonly string[];
}

export const ROOTFS_RECIPE: RootfsRecipe = {
  suite: 'bookworm',
  variant: 'minbase',
  packages: ROOTFS_PACKAGES,
  customize: [
    // Every host gets its own host keys: a rootfs's keys would be shared by all of them.
    'rm -f "$1"/etc/ssh/ssh_host_*',
    // systemd makes the machine id at boot (from nspawn --uuid); an empty file is what mmdebstrap leaves.
    ': > "$1"/etc/machine-id',
  ],
};

/** Documentation and translations are never read on a test host: ~30 MB less per rootfs. */
const DPKG_EXCLUDES = ['/usr/share/man/*', '/usr/share/doc/*', '/usr/share/locale/*', '/usr/share/info/*'];

export function recipeHash(r: RootfsRecipe = ROOTFS_RECIPE): string {
  return createHash('sha256').update(JSON.stringify({ ...r, excludes: DPKG_EXCLUDES })).digest('hex').slice(0, 12);
}

export function rootfsPath(r: RootfsRecipe = ROOTFS_RECIPE, cache = ROOTFS_CACHE): string {
  return join(cache, `rootfs-${recipeHash(r)}`);
}

export interface RootfsResult { path: string; built: boolean; ms: number }

const BUILD_SCRIPT = [
  'set -eu',
  'final=$1; tmp=$2; shift 2',
  '[ -d "$final" ] && exit 10',
  'rm -rf "$tmp"',
  '"$@" "$tmp"',
  'printf "%s\\n" "$CUSTOMIZE" > "$tmp.customize"',
  'sh -eu "$tmp.customize" "$tmp"',
  'rm -f "$tmp.customize"',
  'mv "$tmp" "$final"',
].join('\n');

function runLogged(argv: string[], logPath: string, env: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    void open(logPath, 'a').then((log) => {
      const child = spawn(argv[0] as string, argv.slice(1), { stdio: ['ignore', log.fd, log.fd], env: { ...process.env, ...env } });
      child.on('error', (err) => { void log.close(); reject(err); });
      child.on('exit', (code) => { void log.close(); resolve(code ?? 1); });
    }, reject);
  });
}

/**
 * The cached rootfs, built first if this machine has none (~1.5 min on a
 * loaded 2-core machine, then instant). Needs root, mmdebstrap and Debian's apt.
 */
export async function ensureRootfs(opts: { recipe?: RootfsRecipe; cache?: string; log?: (msg: string) => void } = {}): Promise<RootfsResult> {
  const recipe = opts.recipe ?? ROOTFS_RECIPE;
  const cache = opts.cache ?? ROOTFS_CACHE;
  const path = rootfsPath(recipe, cache);
  const t0 = Date.now();
  if (await access(join(path, 'usr', 'lib', 'systemd', 'systemd')).then(() => true, () => false)) return { path, built: false, ms: 0 };
  const mmdebstrap = await findExecutable('mmdebstrap', ['/usr/bin/mmdebstrap']).catch(() => {
    throw new FlotillaError("mmdebstrap not found: run 'bash src/dev/ensure-deps.sh' (installs mmdebstrap and systemd-container)");
  });
  await mkdir(cache, { recursive: true });
  const logPath = `${path}.log`;
  opts.log?.(`building the booted-host rootfs ${path} with mmdebstrap (once per machine; log ${logPath})`);
  const argv = [
    'flock', '-w', '1800', `${path}.lock`,
    '/bin/sh', '-c', BUILD_SCRIPT, 'build-rootfs', path, `${path}.tmp`,
    mmdebstrap, '--mode=root', `--variant=${recipe.variant}`, `--include=${recipe.packages.join(',')}`,
    ...DPKG_EXCLUDES.map((p) => `--dpkgopt=path-exclude=${p}`),
    '--dpkgopt=path-include=/usr/share/doc/*/copyright',
    recipe.suite,
  ];
  const code = await runLogged(argv, logPath, { CUSTOMIZE: recipe.customize.join('\n') });
  if (code === 10) return { path, built: false, ms: Date.now() - t0 };
  if (code !== 0) {
    const tail = (await readFile(logPath, 'utf8').catch(() => '')).trim().split('\n').slice(-2).join(' | ');
    throw new FlotillaError(`building the rootfs ${path} failed (exit ${code}): ${tail}`);
  }
  return { path, built: true, ms: Date.now() - t0 };
}
