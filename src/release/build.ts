/**
 * `npm run release`: flotilla-<version>-linux-x64.tar.gz and its .sha256 in
 * dist/release/. The archive unpacks (no top-level directory) into e.g.
 * /opt/flotilla:
 *
 *   bin/flotillad, bin/flotctl   POSIX sh launchers (src/release/launcher.sh)
 *   lib/flotillad.mjs, lib/flotctl.mjs, lib/chunk-*.mjs, lib/proto/   the bundled programs (ESM)
 *   lib/flotctl.js               flotctl's CommonJS entry (it starts sooner, issue 12;
 *                                hands what it does not answer to lib/flotctl.mjs)
 *   lib/package.json             "type": "commonjs" (for lib/flotctl.js)
 *   runtime/node                 the Node runtime (the build machine's)
 *   flotillad.service            the system unit
 *   package.json                 name, version, "type": "module"
 *   INSTALL, THIRD-PARTY-LICENSES
 *
 * It bundles the compiled program in dist/src, so run it after `npm run build`.
 * The archive is written under a temporary name and renamed, so concurrent
 * builders (two test files) never see half an archive.
 */
import { createHash, randomBytes } from 'node:crypto';
import { spawn } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { chmod, copyFile, mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FlotillaError } from '../util/errors.js';
import { HELP_FILE } from '../cli/help-request.js';
import { DAEMON_NODE_FLAGS } from '../daemon/node-flags.js';
import { bundle, describePackage, etcd3ProtoDir } from './bundle.js';
import { copyRuntime, runtimeNeeds, type RuntimeNeeds } from './runtime.js';

export interface Release {
  version: string;
  tarball: string;
  sha256: string;
  /** The .sha256 file: `<hex>  <file name>`, as sha256sum -c reads it. */
  sha256File: string;
  bytes: number;
  needs: RuntimeNeeds;
}

/** dist/src/release/build.js -> the repository root. */
export function repoRoot(): string {
  return fileURLToPath(new URL('../../../', import.meta.url));
}

export function releaseDir(root = repoRoot()): string {
  return join(root, 'dist', 'release');
}

export function tarballName(version: string): string {
  return `flotilla-${version}-linux-x64.tar.gz`;
}

async function packageVersion(root: string): Promise<string> {
  const pkg = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as { version?: unknown };
  if (typeof pkg.version !== 'string') throw new FlotillaError(`${join(root, 'package.json')} has no version`);
  return pkg.version;
}

function sh(cmd: string, args: string[], opts: { cwd?: string; stdoutTo?: string } = {}): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('/bin/sh', ['-c', opts.stdoutTo ? '"$@" > "$OUT"' : '"$@"', 'sh', cmd, ...args], {
      cwd: opts.cwd,
      stdio: ['ignore', 'inherit', 'pipe'],
      env: { ...process.env, ...(opts.stdoutTo ? { OUT: opts.stdoutTo } : {}) },
    });
    let err = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => { err += d; });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new FlotillaError(`${cmd} failed (exit ${code}): ${err.trim().split('\n')[0] ?? ''}`))));
  });
}

async function sha256Of(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

function fill(template: string, values: Record<string, string>): string {
  return template.replace(/@([A-Z_]+)@/g, (m, k: string) => values[k] ?? m);
}

async function licenses(root: string, packages: string[]): Promise<string> {
  const parts: string[] = [];
  for (const dir of packages) {
    const files = (await readdir(dir).catch(() => [] as string[])).filter((f) => /^(licen[cs]e|copying|notice)/i.test(f)).sort();
    const texts = await Promise.all(files.map((f) => readFile(join(dir, f), 'utf8')));
    parts.push(`== ${describePackage(root, dir)} ==\n${texts.join('\n').trim() || '(no license file in the package; see its package.json)'}\n`);
  }
  return parts.join('\n');
}

function installText(version: string, needs: RuntimeNeeds): string {
  return [
    `Flotilla ${version} for x86-64 Linux with glibc. No Node or npm needed on the host.`,
    '',
    `The host must provide: glibc >= ${needs.glibc} (loader /lib64/ld-linux-x86-64.so.2),`,
    `libstdc++ with GLIBCXX_${needs.glibcxx} (GCC >= 5) and libgcc_s; systemd with a system bus (dbus).`,
    '',
    'Install:',
    '  mkdir -p /opt/flotilla /etc/flotilla',
    `  tar -xzf flotilla-${version}-linux-x64.tar.gz -C /opt/flotilla`,
    '  cp /opt/flotilla/flotillad.service /etc/systemd/system/',
    '  $EDITOR /etc/flotilla/flotillad.conf      # etcd_servers=..., metadata=...',
    '  systemctl daemon-reload && systemctl enable --now flotillad.service',
    '  ln -s /opt/flotilla/bin/flotctl /usr/local/bin/flotctl',
    '',
    'Update: unpack the new release over /opt/flotilla, then systemctl restart flotillad.',
    '',
  ].join('\n');
}

/** Build the release from dist/src into `outDir` (default dist/release). */
export async function buildRelease(opts: { outDir?: string; root?: string } = {}): Promise<Release> {
  const root = opts.root ?? repoRoot();
  const outDir = opts.outDir ?? releaseDir(root);
  const version = await packageVersion(root);
  const entries = [
    { name: 'flotillad', entry: join(root, 'dist', 'src', 'daemon', 'main.js') },
    { name: 'flotctl', entry: join(root, 'dist', 'src', 'cli', 'main.js') },
  ];
  const cjsEntries = [{ name: 'flotctl', entry: join(root, 'dist', 'src', 'cli', 'main-cjs.js') }];
  /** What each launcher runs, in lib/. */
  const started: Record<string, string> = { flotillad: 'flotillad.mjs', flotctl: 'flotctl.js' };
  for (const e of [...entries, ...cjsEntries]) {
    await stat(e.entry).catch(() => { throw new FlotillaError(`${e.entry} is missing: run 'npm run build' first`); });
  }
  await mkdir(outDir, { recursive: true });
  const tag = `${process.pid}-${randomBytes(4).toString('hex')}`;
  const stage = join(outDir, `.stage-${tag}`);
  try {
    for (const d of ['bin', 'lib/proto', 'runtime']) await mkdir(join(stage, d), { recursive: true });
    const packages = await bundle(entries, join(stage, 'lib'), root, cjsEntries);
    // esbuild marks a bundle executable when its entry has a #! line; the launchers are what runs.
    for (const f of [...entries.map((e) => `${e.name}.mjs`), ...cjsEntries.map((e) => `${e.name}.js`)]) await chmod(join(stage, 'lib', f), 0o644);
    for (const f of await readdir(etcd3ProtoDir(root))) await copyFile(join(etcd3ProtoDir(root), f), join(stage, 'lib', 'proto', f));
    // flotctl's pre-rendered help (src/cli/help-render.ts) goes beside its bundle, which reads it from there.
    const help = join(root, 'dist', 'src', 'cli', HELP_FILE);
    if (await stat(help).then(() => true, () => false)) await copyFile(help, join(stage, 'lib', HELP_FILE));

    const node = join(stage, 'runtime', 'node');
    await copyRuntime(process.execPath, node);
    await chmod(node, 0o755);
    const needs = await runtimeNeeds(node);

    const launcher = await readFile(join(root, 'src', 'release', 'launcher.sh'), 'utf8');
    const flags: Record<string, string> = { flotillad: DAEMON_NODE_FLAGS.join(' '), flotctl: '' };
    for (const e of entries) {
      const path = join(stage, 'bin', e.name);
      const text = fill(launcher, { PROGRAM: e.name, ENTRY: started[e.name] ?? `${e.name}.mjs`, NODE_FLAGS: flags[e.name] ?? '', GLIBC: needs.glibc, GLIBCXX: needs.glibcxx });
      await writeFile(path, text.replace(/ +"\$entry"/, ' "$entry"'), { mode: 0o755 });
      await chmod(path, 0o755);
    }
    await copyFile(join(root, 'src', 'release', 'flotillad.service'), join(stage, 'flotillad.service'));
    await writeFile(join(stage, 'package.json'), `${JSON.stringify({ name: 'flotilla', version, private: true, type: 'module' }, null, 2)}\n`);
    await writeFile(join(stage, 'INSTALL'), installText(version, needs));
    await writeFile(join(stage, 'THIRD-PARTY-LICENSES'), await licenses(root, packages));

    const name = tarballName(version);
    const tmp = join(outDir, `.${name}.${tag}`);
    // Reproducible: sorted names, fixed owner and time, no gzip timestamp.
    await sh('tar', ['--sort=name', '--owner=0', '--group=0', '--numeric-owner', '--mtime=@0', '-C', stage, '-cf', '-', '.'], { stdoutTo: `${tmp}.tar` });
    await sh('gzip', ['-n', '-6', '-c', `${tmp}.tar`], { stdoutTo: tmp });
    await rm(`${tmp}.tar`, { force: true });
    const sha256 = await sha256Of(tmp);
    const tarball = join(outDir, name);
    const sha256File = `${tarball}.sha256`;
    await rename(tmp, tarball);
    await writeFile(`${sha256File}.${tag}`, `${sha256}  ${name}\n`);
    await rename(`${sha256File}.${tag}`, sha256File);
    return { version, tarball, sha256, sha256File, bytes: (await stat(tarball)).size, needs };
  } finally {
    await rm(stage, { recursive: true, force: true });
  }
}

/** Newest modification time of any file under the given paths. */
async function newestMtime(paths: string[]): Promise<number> {
  let newest = 0;
  for (const p of paths) {
    // A path that does not exist (yet) has no files to be newer.
    const st = await stat(p).catch(() => undefined);
    if (!st) continue;
    if (!st.isDirectory()) {
      newest = Math.max(newest, st.mtimeMs);
      continue;
    }
    for (const e of await readdir(p)) newest = Math.max(newest, await newestMtime([join(p, e)]));
  }
  return newest;
}

/** The release in dist/release if it is newer than everything it is made of, else a new one. */
export async function ensureRelease(root = repoRoot(), log?: (msg: string) => void): Promise<Release> {
  const version = await packageVersion(root);
  const tarball = join(releaseDir(root), tarballName(version));
  try {
    const [st, line] = await Promise.all([stat(tarball), readFile(`${tarball}.sha256`, 'utf8')]);
    const sha256 = line.split(/\s+/)[0] ?? '';
    const inputs = await newestMtime([join(root, 'dist', 'src'), join(root, 'src', 'release'), join(root, 'package-lock.json'), process.execPath]);
    if (/^[0-9a-f]{64}$/.test(sha256) && st.mtimeMs > inputs) {
      // Built on this machine since the last build, so from the node running us.
      const needs = await runtimeNeeds(process.execPath);
      return { version, tarball, sha256, sha256File: `${tarball}.sha256`, bytes: st.size, needs };
    }
  } catch {
    // none yet: build it
  }
  log?.(`building the release into ${releaseDir(root)} (the compiled code changed since the last one)`);
  return buildRelease({ root });
}
