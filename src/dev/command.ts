/**
 * `flotillad dev`: a whole Flotilla cluster on this machine for trying things
 * out (`npm start`). Foreground by default, so Ctrl-C leaves nothing behind;
 * --detach hands the cluster over to a later `flotillad dev --down`.
 */
import { Command, InvalidArgumentError } from 'commander';
import { createLogger } from '../util/log.js';
import { errorMessage, ExitCode } from '../util/errors.js';
import { exitCodeOf } from '../util/exit-codes.js';
import { LocalCluster } from './cluster.js';
import { downCommand, loadState, sh } from './cluster-dir.js';
import { defaultClusterDir } from './private-dir.js';
import { runDemo } from './demo.js';

interface DevOptions {
  hosts: number;
  dir: string;
  ttl: number;
  detach?: boolean;
  demo?: boolean;
  down?: boolean;
  docker?: boolean;
  boot?: boolean;
  secure?: boolean;
}


function intOption(min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`use a whole number from ${min} to ${max}`);
    return n;
  };
}

function print(line = ''): void {
  process.stdout.write(`${line}\n`);
}


function describe(cluster: LocalCluster, ms: number): void {
  print(`flotilla dev cluster ready in ${(ms / 1000).toFixed(1)} s: ${cluster.hosts.length} hosts, etcd ${cluster.endpoints.join(',')}, dir ${cluster.dir}`);
  print();
  const first = cluster.hosts.findIndex((_, i) => cluster.apiSocket(i) !== undefined);
  const env = cluster.flotctlEnv();
  if (first >= 0) {
    // The API driver is flotctl's default: a host's flotillad, its socket.
    print("# flotctl talks to this cluster through a host's flotillad (the API driver, the default) with:");
    print('export FLOTCTL_DRIVER=api');
    print(`export FLOTCTL_ENDPOINT=${sh(`unix://${cluster.apiSocket(first)}`)}`);
    for (const k of ['FLOTCTL_SSH_USERNAME', 'FLOTCTL_SSH_IDENTITY', 'FLOTCTL_KNOWN_HOSTS_FILE']) if (env[k] !== undefined) print(`export ${k}=${sh(env[k])}`);
    print('# or to etcd directly (--driver etcd), with (commented out, so pasting it all keeps the API):');
  } else print('# flotctl talks to this cluster with:');
  const mark = first >= 0 ? '# ' : '';
  for (const [k, v] of Object.entries(env)) {
    // The password stays in its file (mode 0600), out of the terminal's scrollback.
    if (k === 'FLOTCTL_PASSWORD' && cluster.passwordFile) print(`${mark}export ${k}="$(cat ${sh(cluster.passwordFile)})"`);
    else print(`${mark}export ${k}=${sh(v)}`);
  }
  print('# then, from this directory, for example:');
  print('npx flotctl list-machines');
  print('npx flotctl start units/hello.service');
  print('npx flotctl list-units');
  print('npx flotctl status hello.service    # over SSH, on the host running it');
  print('npx flotctl stop hello.service && npx flotctl destroy hello.service');
  print();
  print("# each host's own systemd:");
  for (const h of cluster.hosts) {
    if (h.boot) print(`${h.name} ${h.machineId} ${h.publicIP}  nsenter -t ${h.boot.initPid} -a systemctl ...   (root: ${sh(h.boot.root)})`);
    else print(`${h.name} ${h.machineId} ${h.publicIP}  DBUS_SESSION_BUS_ADDRESS=${sh(h.busAddress)} XDG_RUNTIME_DIR=${sh(h.runtimeDir)} systemctl --user ...`);
  }
  const sockets = cluster.hosts.map((h, i) => [h.name, cluster.apiSocket(i)] as const).filter((x): x is readonly [string, string] => x[1] !== undefined);
  if (sockets.length > 0) {
    print();
    print("# each host's API (fleet's /fleet/v1 and /flotilla/v1):");
    for (const [name, path] of sockets) print(`${name}  curl --unix-socket ${sh(path)} http://localhost/fleet/v1/machines`);
  }
  if (cluster.registry) {
    print();
    print(`# each host runs its own Docker engine (docker.service); images from this machine's files, in the registry on ${cluster.registry}:`);
    for (const ref of Object.values(cluster.images ?? {})) print(`#   ${ref}`);
    print('npx flotctl start units/etcd@1.service units/etcd-announce@1.service   # etcd in Docker, and its sidekick');
    for (const h of cluster.hosts) {
      const dockerHost = h.env.DOCKER_HOST;
      if (dockerHost) print(`${h.name}  DOCKER_HOST=${sh(dockerHost)} docker ps`);
    }
  }
  print();
  const booted = cluster.hosts.find((h) => h.boot);
  if (booted?.boot) print(`# flotillad logs: in each host's journal, e.g. nsenter -t ${booted.boot.initPid} -a journalctl -u flotillad`);
  else print(`# flotillad logs: ${cluster.dir}/host*/flotillad.log`);
}

async function down(dir: string): Promise<void> {
  if (!(await loadState(dir))) {
    print(`no dev cluster running in ${dir}`);
    return;
  }
  const cluster = await LocalCluster.attach(dir);
  await cluster.down();
  print(`dev cluster in ${dir} stopped`);
}

/**
 * Signals are caught from the very start: a Ctrl-C during start-up must still
 * tear down what was started (processes run detached and would outlive us).
 */
async function up(opts: DevOptions): Promise<void> {
  // Signal handlers and the detached children do not keep Node's event loop alive.
  const keepAlive = setInterval(() => undefined, 1 << 30);
  try {
    await upUntilSignal(opts);
  } finally {
    clearInterval(keepAlive);
  }
}

async function upUntilSignal(opts: DevOptions): Promise<void> {
  let stop!: (signal: string) => void;
  const stopped = new Promise<string>((res) => { stop = res; });
  const onSignal = (signal: NodeJS.Signals): void => stop(signal);
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const log = createLogger({ name: 'dev', level: 'info' });

  const t0 = Date.now();
  const starting = LocalCluster.start({ dir: opts.dir, hosts: opts.hosts, ttlSeconds: opts.ttl, docker: opts.docker ?? false, log, ...(opts.boot ? { boot: true } : {}), ...(opts.secure ? { secure: true, etcdMembers: 3 as const } : {}) });
  const first = await Promise.race([starting.then(() => 'ready'), stopped]);
  const cluster = await starting;
  if (first !== 'ready') {
    await cluster.down();
    return;
  }
  describe(cluster, Date.now() - t0);

  if (opts.demo) {
    print();
    const demoDone = runDemo(cluster, (line) => print(line)).then(() => 'done');
    if ((await Promise.race([demoDone, stopped])) !== 'done') {
      await cluster.down();
      return;
    }
  }
  if (opts.detach) {
    print();
    print(`# left running; stop it with: ${downCommand(cluster.dir)}`);
    return;
  }
  print();
  print('# Ctrl-C stops the cluster');
  const signal = await stopped;
  print(`${signal}: stopping the cluster`);
  await cluster.down();
  print('stopped');
}

export function devCommand(): Command {
  return new Command('dev')
    .description('run a local cluster: etcd plus N systemd --user hosts (or booted hosts with --boot), each running flotillad as a unit')
    .option('--hosts <n>', 'number of hosts', intOption(0, 200), 3)
    .option('--dir <dir>', 'directory for state, keys, sockets and logs, private to you (mode 0700)', defaultClusterDir())
    .option('--ttl <seconds>', 'agent TTL in seconds', intOption(2, 3600), 10)
    .option('--detach', 'return once the cluster is ready and leave it running')
    .option('--demo', 'run the demo once the cluster is ready')
    .option('--docker', 'give every host its own Docker engine, and the cluster a loopback image registry with images built from local files')
    .option('--secure', 'etcd (3 members) requires TLS client certificates and a password, as in production')
    .option('--down', 'stop the cluster running in --dir')
    .option('--boot', 'hosts that boot: systemd-nspawn over a cached Debian rootfs, flotillad installed from the release (needs root)')
    .action(async (opts: DevOptions) => {
      try {
        if (opts.down) await down(opts.dir);
        else await up(opts);
        process.exit(ExitCode.ok);
      } catch (err) {
        process.stderr.write(`flotillad dev: ${errorMessage(err).split('\n')[0]}\n`);
        process.exit(exitCodeOf(err));
      }
    });
}
