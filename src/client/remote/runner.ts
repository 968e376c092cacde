/**
 * Runs a command on a machine: over SSH, or directly when flotctl runs on
 * that machine itself (fleetctl's /etc/machine-id shortcut, which needs no
 * sshd on the local host). One connection per machine is reused for the
 * whole invocation.
 */
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { constants } from 'node:os';
import type { MachineSummary } from '../types.js';
import { type RemoteIO, type SshSettings, SshSession } from './ssh.js';

export interface RunnerOptions {
  ssh: SshSettings;
  /** --ssh-port: overrides the port each machine advertises. */
  sshPort?: number;
  /** This machine's id; commands for it run locally. */
  localMachineId?: string;
}

export class RemoteRunner {
  private readonly sessions = new Map<string, Promise<SshSession>>();

  constructor(private readonly opts: RunnerOptions) {}

  /** `command` undefined: an interactive login shell. Resolves with the exit status. */
  async run(machine: MachineSummary, command: string | undefined, io: RemoteIO): Promise<number> {
    if (machine.id === this.opts.localMachineId) return runLocally(command, io);
    return (await this.session(machine)).run(command, io);
  }

  close(): void {
    for (const s of this.sessions.values()) s.then((x) => x.close(), () => undefined);
    this.sessions.clear();
  }

  private session(m: MachineSummary): Promise<SshSession> {
    let s = this.sessions.get(m.id);
    if (!s) {
      s = SshSession.open({ address: m.publicIP, port: this.opts.sshPort ?? m.sshPort }, this.opts.ssh);
      this.sessions.set(m.id, s);
    }
    return s;
  }
}

/** /etc/machine-id, or undefined where there is none. */
export async function localMachineId(path = '/etc/machine-id'): Promise<string | undefined> {
  try {
    const id = (await readFile(path, 'utf8')).trim().toLowerCase();
    return /^[0-9a-f]{32}$/.test(id) ? id : undefined;
  } catch {
    return undefined;
  }
}

function runLocally(command: string | undefined, io: RemoteIO): Promise<number> {
  return new Promise<number>((resolve) => {
    const argv = command === undefined ? [process.env.SHELL ?? '/bin/sh', '-l'] : ['/bin/sh', '-c', command];
    const interactive = command === undefined && io.pty !== undefined;
    const child = spawn(argv[0] as string, argv.slice(1), { stdio: interactive ? 'inherit' : ['pipe', 'pipe', 'pipe'] });
    child.stdout?.setEncoding('utf8').on('data', (d: string) => io.stdout(d));
    child.stderr?.setEncoding('utf8').on('data', (d: string) => io.stderr(d));
    if (child.stdin) {
      if (io.stdin) io.stdin.pipe(child.stdin);
      else child.stdin.end();
    }
    child.on('error', (err) => {
      io.stderr(`${argv[0]}: ${err.message}\n`);
      resolve(127);
    });
    child.on('close', (code, signal) => {
      if (io.stdin && child.stdin) io.stdin.unpipe(child.stdin);
      resolve(code ?? (signal ? 128 + (constants.signals[signal] ?? 0) : 255));
    });
  });
}
