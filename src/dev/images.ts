/**
 * Container images for the dev cluster, built from files on this machine
 * (nothing is ever pulled from a public registry): a busybox image from
 * Debian's busybox-static and an etcd image from Debian's etcd binaries and
 * the shared libraries they link. Each is `docker import`ed into one host's
 * engine, pushed to the cluster's loopback registry and removed from that
 * engine again, so every host gets it the way a real host does: `docker
 * pull` in its unit. Pushing costs ~10 s (dockerd gzips 40 MB on one core),
 * so the registry's storage is kept in a machine cache keyed by the image
 * versions, and later clusters start from a hard-linked copy of it.
 */
import { access, copyFile, mkdir, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { FlotillaError } from '../util/errors.js';
import { findExecutable, run } from './exec.js';

/** Image references in the cluster's registry, by what they hold. */
export interface DevImages {
  busybox: string;
  etcd: string;
}

/** Where registry storage with the dev images is kept between clusters, as the booted hosts' rootfs is. */
export const IMAGE_CACHE = '/var/cache/flotilla/dev-images';
/** Bump when the way images are built changes, so an old cache is not reused. */
const BUILD_FORMAT = 1;

interface ImageSpec {
  repository: string;
  tag: string;
  cmd: string;
  build: (root: string) => Promise<void>;
}

async function must(cmd: string, args: string[], env?: Record<string, string>, timeoutMs = 120_000): Promise<string> {
  const r = await run(cmd, args, { ...(env ? { env } : {}), timeoutMs });
  if (r.code !== 0) throw new FlotillaError(`${cmd} ${args.join(' ')} failed (exit ${r.code}): ${r.stderr.trim().split('\n').slice(-2).join(' | ')}`);
  return r.stdout;
}

/** The absolute paths of the shared libraries (and loader) a binary links, from ldd. */
async function sharedLibraries(binary: string): Promise<string[]> {
  const r = await run('ldd', [binary]);
  // A static binary makes ldd exit 1 ("not a dynamic executable"): nothing to copy.
  if (r.code !== 0) return [];
  return [...r.stdout.matchAll(/(\/\S+) \(0x/g)].map((m) => m[1] as string);
}

async function copyInto(root: string, from: string, to: string = from): Promise<void> {
  await mkdir(join(root, dirname(to)), { recursive: true });
  await copyFile(from, join(root, to));
}

function versionOf(text: string, pattern: RegExp, what: string): string {
  const m = pattern.exec(text);
  if (!m?.[1]) throw new FlotillaError(`cannot read the version of ${what} from: ${text.split('\n')[0]}`);
  return m[1];
}

async function busyboxImage(): Promise<ImageSpec> {
  const busybox = await findExecutable('busybox', ['/bin/busybox']).catch(() => {
    throw new FlotillaError("busybox not found: run 'bash src/dev/ensure-deps.sh' (installs busybox-static)");
  });
  if ((await sharedLibraries(busybox)).length > 0) throw new FlotillaError(`${busybox} is not static: install busybox-static`);
  const banner = (await run(busybox, [])).stdout;
  return {
    repository: 'flotilla/busybox',
    tag: versionOf(banner, /BusyBox v(\d+\.\d+\.\d+)/, busybox),
    cmd: '/bin/sh',
    build: async (root) => {
      await copyInto(root, busybox, '/bin/busybox');
      for (const applet of (await must(busybox, ['--list'])).split('\n').filter((a) => /^[\w.[-]+$/.test(a) && a !== 'busybox')) {
        await symlink('busybox', join(root, 'bin', applet));
      }
      await mkdir(join(root, 'tmp'), { recursive: true });
    },
  };
}

async function etcdImage(): Promise<ImageSpec> {
  const etcd = await findExecutable('etcd', ['/usr/bin/etcd']);
  const etcdctl = await findExecutable('etcdctl', ['/usr/bin/etcdctl']);
  return {
    repository: 'flotilla/etcd',
    tag: versionOf(await must(etcd, ['--version']), /etcd Version: (\S+)/, etcd),
    cmd: '/usr/local/bin/etcd',
    build: async (root) => {
      // Where quay.io/coreos/etcd keeps them, so units written for that image run this one.
      await copyInto(root, etcd, '/usr/local/bin/etcd');
      await copyInto(root, etcdctl, '/usr/local/bin/etcdctl');
      const libs = new Set([...(await sharedLibraries(etcd)), ...(await sharedLibraries(etcdctl))]);
      for (const lib of libs) await copyInto(root, lib);
      await mkdir(join(root, 'tmp'), { recursive: true });
      await mkdir(join(root, 'var', 'lib', 'etcd'), { recursive: true });
    },
  };
}

async function pushImage(docker: string, spec: ImageSpec, registry: string, env: Record<string, string>, workDir: string): Promise<void> {
  const name = spec.repository.split('/').pop() ?? 'image';
  const root = join(workDir, name);
  const tarball = join(workDir, `${name}.tar`);
  await rm(root, { recursive: true, force: true });
  await mkdir(root, { recursive: true });
  try {
    await spec.build(root);
    await must('tar', ['-C', root, '-cf', tarball, '.']);
    const ref = `${registry}/${spec.repository}:${spec.tag}`;
    await must(docker, ['import', '--change', `CMD ["${spec.cmd}"]`, tarball, ref], env);
    await must(docker, ['push', '--quiet', ref], env);
    await must(docker, ['rmi', ref], env);
  } finally {
    await rm(root, { recursive: true, force: true });
    await rm(tarball, { force: true });
  }
}

type Specs = Record<keyof DevImages, ImageSpec>;

/** What the images will be (repository and version tag), without building anything. */
export async function devImageSpecs(): Promise<Specs> {
  return { busybox: await busyboxImage(), etcd: await etcdImage() };
}

export function imageRefs(registry: string, specs: Specs): DevImages {
  return {
    busybox: `${registry}/${specs.busybox.repository}:${specs.busybox.tag}`,
    etcd: `${registry}/${specs.etcd.repository}:${specs.etcd.tag}`,
  };
}

function cachePath(specs: Specs, cache: string): string {
  const key = Object.values(specs).map((s) => `${s.repository.split('/').pop()}-${s.tag}`).join('_');
  return join(cache, `${key}_v${BUILD_FORMAT}`);
}

/** Fill an empty registry storage dir from the machine cache; false when the cache has no copy yet. */
export async function seedFromCache(storage: string, specs: Specs, cache = IMAGE_CACHE): Promise<boolean> {
  const cached = cachePath(specs, cache);
  if (!(await access(join(cached, 'complete')).then(() => true, () => false))) return false;
  await rm(storage, { recursive: true, force: true });
  await mkdir(dirname(storage), { recursive: true });
  // The registry writes new files and renames them into place, so hard links are never written
  // through; a cluster dir on another file system (tmpfs) gets a plain copy.
  const linked = await run('cp', ['-al', join(cached, 'data'), storage]);
  if (linked.code !== 0) {
    await rm(storage, { recursive: true, force: true });
    await must('cp', ['-a', join(cached, 'data'), storage]);
  }
  return true;
}

/** Keep a copy of registry storage holding the images, for the next cluster on this machine. */
export async function saveToCache(storage: string, specs: Specs, cache = IMAGE_CACHE): Promise<void> {
  const cached = cachePath(specs, cache);
  const tmp = `${cached}.${process.pid}.tmp`;
  await rm(tmp, { recursive: true, force: true });
  await mkdir(tmp, { recursive: true });
  await must('cp', ['-a', storage, join(tmp, 'data')]);
  await writeFile(join(tmp, 'complete'), `${new Date().toISOString()}\n`);
  // Another cluster may have cached the same images meanwhile: either copy will do.
  await rename(tmp, cached).catch(() => rm(tmp, { recursive: true, force: true }));
}

/**
 * Build every image under `workDir`, import it through the engine that
 * `dockerHost` (a DOCKER_HOST value) reaches, push it to `registry`
 * (host:port) and remove it from that engine.
 */
export async function pushDevImages(registry: string, specs: Specs, dockerHost: string, workDir: string): Promise<DevImages> {
  const docker = await findExecutable('docker', ['/usr/bin/docker']);
  await mkdir(workDir, { recursive: true });
  // The client keeps its config under HOME: give it one of its own.
  const env = { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', HOME: workDir, DOCKER_HOST: dockerHost };
  for (const spec of Object.values(specs)) await pushImage(docker, spec, registry, env, workDir);
  return imageRefs(registry, specs);
}

/** The environment file units read their images from (EnvironmentFile=-%E/flotilla/images.env). */
export function renderImagesEnv(images: DevImages): string {
  return [
    "# Written by 'flotillad dev': images built from this machine's files, served by the cluster's loopback registry.",
    `ETCD_IMAGE=${images.etcd}`,
    `BUSYBOX_IMAGE=${images.busybox}`,
    '',
  ].join('\n');
}
