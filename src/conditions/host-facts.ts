/**
 * What a host is, as far as the checks in a bid care: the facts systemd's
 * Condition and Assert checks look at, plus the machine's effective metadata.
 * Checks take a HostFacts value so they can be tested without a host; the
 * agent builds the real one here from the kernel and the store.
 */
import { readFile } from 'node:fs/promises';
import { availableParallelism, endianness, homedir, hostname, machine, totalmem } from 'node:os';

export interface HostFacts {
  /** This machine's id in the cluster (on a real host, /etc/machine-id). */
  machineId: string;
  hostname: string;
  /** Config metadata overlaid with dynamic metadata from the store. */
  metadata: Readonly<Record<string, string>>;
  /** systemd's name for the kernel's architecture: `x86-64`, `arm64`, ... */
  architecture: string;
  /** The kernel command line as the kernel gives it. */
  kernelCommandLine: string;
  memoryBytes: number;
  /** CPUs in the service manager's affinity mask. */
  cpus: number;
  /** The service manager's environment (ConditionEnvironment=). */
  environment: Readonly<Record<string, string>>;
  /**
   * Absolute paths in path conditions are looked up under this directory:
   * `/` on a real host; a per-host directory where simulated hosts share
   * one filesystem. Under such a root `..` is resolved by name so a path
   * cannot climb out, but a symlink to an absolute target still points
   * outside it: it is a test aid, not a chroot.
   */
  root: string;
  /** The service manager's home directory, systemd's %h. */
  home?: string;
}

export type HostFactsSource = () => Promise<HostFacts>;

// Per-service variables systemd gives flotillad itself, which the service
// manager's own environment (what ConditionEnvironment= sees) does not have.
const SERVICE_ONLY_ENV = new Set([
  'INVOCATION_ID', 'JOURNAL_STREAM', 'SYSTEMD_EXEC_PID', 'MANAGERPID', 'MAINPID', 'NOTIFY_SOCKET',
  'WATCHDOG_PID', 'WATCHDOG_USEC', 'LISTEN_PID', 'LISTEN_FDS', 'LISTEN_FDNAMES', 'RUNTIME_DIRECTORY',
  'STATE_DIRECTORY', 'CACHE_DIRECTORY', 'LOGS_DIRECTORY', 'CONFIGURATION_DIRECTORY', 'CREDENTIALS_DIRECTORY',
  'MEMORY_PRESSURE_WATCH', 'MEMORY_PRESSURE_WRITE', 'TRIGGER_UNIT', 'TRIGGER_PATH', 'TRIGGER_TIMER_REALTIME_USEC',
  'TRIGGER_TIMER_MONOTONIC_USEC', 'EXIT_CODE', 'EXIT_STATUS', 'SERVICE_RESULT', 'MONITOR_SERVICE_RESULT',
]);

export interface LocalHostOptions {
  machineId: string;
  /** Default `/`. */
  root?: string;
  /** Current effective metadata; called on every bid. */
  metadata: () => Readonly<Record<string, string>>;
}

/** The kernel's command line: one per kernel, so one read per process. */
let cmdline: Promise<string> | undefined;

/** Facts of the host this process runs on. Things that cannot change while it runs are read once. */
export function localHostFacts(opts: LocalHostOptions): HostFactsSource {
  const architecture = architectureFromUname(machine(), endianness());
  const environment: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && !SERVICE_ONLY_ENV.has(k) && !k.startsWith('FLOTILLA_')) environment[k] = v;
  }
  return async () => {
    cmdline ??= readFile('/proc/cmdline', 'utf8').then((s) => s.trim(), () => '');
    return {
      machineId: opts.machineId,
      hostname: hostname(),
      metadata: opts.metadata(),
      architecture,
      kernelCommandLine: await cmdline,
      memoryBytes: totalmem(),
      cpus: availableParallelism(),
      environment,
      root: opts.root ?? '/',
      home: homedir(),
    };
  };
}

const BY_UNAME: Record<string, string> = {
  x86_64: 'x86-64', i686: 'x86', i586: 'x86', i486: 'x86', i386: 'x86',
  aarch64: 'arm64', aarch64_be: 'arm64-be',
  ia64: 'ia64', parisc64: 'parisc64', parisc: 'parisc', alpha: 'alpha', m68k: 'm68k', nios2: 'nios2',
  ppc64: 'ppc64', ppc64le: 'ppc64-le', ppc: 'ppc', ppcle: 'ppc-le',
  s390x: 's390x', s390: 's390', sparc64: 'sparc64', sparc: 'sparc', tilegx: 'tilegx', crisv32: 'cris',
  riscv32: 'riscv32', riscv64: 'riscv64', loongarch64: 'loongarch64', arc: 'arc', arceb: 'arc-be', sh5: 'sh64',
};

/** systemd's uname_architecture(): `uname -m` to the names ConditionArchitecture= takes. */
export function architectureFromUname(unameMachine: string, order: 'LE' | 'BE'): string {
  const known = Object.hasOwn(BY_UNAME, unameMachine) ? BY_UNAME[unameMachine] : undefined;
  if (known !== undefined) return known;
  // armv7l, armv6b, armv5tejl...: the last letter tells the byte order.
  if (/^armv\d/.test(unameMachine)) return unameMachine.endsWith('b') ? 'arm-be' : 'arm';
  if (/^sh\d/.test(unameMachine)) return 'sh';
  // uname does not say which byte order a MIPS kernel runs in.
  if (unameMachine === 'mips64') return order === 'LE' ? 'mips64-le' : 'mips64';
  if (unameMachine === 'mips') return order === 'LE' ? 'mips-le' : 'mips';
  return unameMachine;
}
