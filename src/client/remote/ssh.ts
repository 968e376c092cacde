/**
 * One SSH connection to a machine, optionally through a bastion (--tunnel),
 * used by status, journal and ssh. Host keys are checked against known_hosts
 * before any credential is offered; Nagle is turned off on every socket, as
 * each round trip otherwise costs ~44 ms (test-cluster-notes).
 */
import { readFile } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import ssh2 from 'ssh2';
import type { ClientChannel, ConnectConfig } from 'ssh2';
import { ExitCode, FlotillaError, errorMessage } from '../../util/errors.js';
import { addKnownHost, checkHostKey, fingerprint, hostPattern, keyTypeOf, readKnownHosts } from './known-hosts.js';

export interface SshEndpoint {
  address: string;
  port: number;
}

export interface SshSettings {
  username: string;
  /** An OpenSSH private key file (not passphrase-protected: use ssh-agent for those). */
  identityFile?: string;
  /** SSH_AUTH_SOCK */
  agentSocket?: string;
  knownHostsFile: string;
  strictHostKeyChecking: boolean;
  timeoutMs: number;
  tunnel?: SshEndpoint;
  forwardAgent: boolean;
  /** Asked when a host is not in known_hosts; absent (not a terminal) means refuse. */
  confirmHost?: (host: string, keyType: string, fingerprint: string) => Promise<boolean>;
  /** Notices such as "Warning: Permanently added …" (stderr). */
  notice?: (line: string) => void;
}

/** Where a remote command's output goes, and what feeds its input. */
export interface RemoteIO {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  stdin?: Readable;
  /** Ask for a terminal (interactive shell on a TTY). */
  pty?: { term: string; rows: number; cols: number };
}

/** SSH itself failed (not the remote command): exit 255, as OpenSSH and fleetctl. */
export class SshError extends FlotillaError {
  constructor(message: string) {
    super(message, ExitCode.remote);
  }
}

interface Credentials {
  privateKey?: Buffer;
  agent?: string;
}

async function credentials(s: SshSettings): Promise<Credentials> {
  const creds: Credentials = {};
  if (s.agentSocket) creds.agent = s.agentSocket;
  if (s.identityFile) {
    let key: Buffer;
    try {
      key = await readFile(s.identityFile);
    } catch (err) {
      throw new SshError(`cannot read SSH identity ${s.identityFile} (${(err as NodeJS.ErrnoException).code ?? errorMessage(err)}): fix --ssh-identity or FLOTCTL_SSH_IDENTITY`);
    }
    const parsed = ssh2.utils.parseKey(key);
    if (parsed instanceof Error) {
      const hint = /passphrase/i.test(parsed.message) ? 'add it to ssh-agent instead (ssh-add)' : 'give an OpenSSH private key file';
      throw new SshError(`SSH identity ${s.identityFile} cannot be used (${parsed.message}): ${hint}`);
    }
    creds.privateKey = key;
  }
  if (!creds.agent && !creds.privateKey) {
    throw new SshError('no SSH credentials: start ssh-agent (SSH_AUTH_SOCK) or pass --ssh-identity FILE (env FLOTCTL_SSH_IDENTITY)');
  }
  return creds;
}

/** Why the connection was refused, in words that name the fix. */
function explain(err: Error & { code?: string; level?: string }, to: SshEndpoint, s: SshSettings): string {
  const where = `${to.address}:${to.port}`;
  if (err.code === 'ECONNREFUSED') return `connection to ${where} refused: is sshd running there? (set the port with --ssh-port)`;
  if (err.code === 'EHOSTUNREACH' || err.code === 'ENETUNREACH') return `${where} is unreachable: check the machine's public IP (flotctl list-machines)`;
  if (/timed out/i.test(err.message)) return `no answer from ${where} within ${s.timeoutMs / 1000} s: check the address, or raise --ssh-timeout`;
  if (err.level === 'client-authentication') {
    return `${where} refused the key for user ${s.username}: authorize it there, or change --ssh-username / --ssh-identity`;
  }
  return `${where}: ${err.message}`;
}

export class SshSession {
  private constructor(
    private readonly client: ssh2.Client,
    private readonly hops: ssh2.Client[],
  ) {}

  /** Connect (through the tunnel if set) and authenticate. */
  static async open(to: SshEndpoint, s: SshSettings): Promise<SshSession> {
    const creds = await credentials(s);
    const hops: ssh2.Client[] = [];
    try {
      let sock: Readable | undefined;
      if (s.tunnel) {
        const bastion = await connect(s.tunnel, s, creds, undefined);
        hops.push(bastion);
        sock = await forward(bastion, to, s);
      }
      return new SshSession(await connect(to, s, creds, sock), hops);
    } catch (err) {
      for (const h of hops) h.end();
      throw err;
    }
  }

  /** Runs `command` (or a login shell when undefined); resolves with its exit status. */
  run(command: string | undefined, io: RemoteIO): Promise<number> {
    return new Promise<number>((resolve, reject) => {
      const started = (err: Error | undefined, channel: ClientChannel): void => {
        if (err) {
          reject(new SshError(`the remote side refused to run the command: ${err.message}`));
          return;
        }
        resolve(pump(channel, io));
      };
      if (command === undefined) {
        if (io.pty) this.client.shell({ term: io.pty.term, rows: io.pty.rows, cols: io.pty.cols }, started);
        else this.client.shell(false, started);
      } else if (io.pty) {
        this.client.exec(command, { pty: { term: io.pty.term, rows: io.pty.rows, cols: io.pty.cols } }, started);
      } else {
        this.client.exec(command, started);
      }
    });
  }

  close(): void {
    this.client.end();
    for (const h of this.hops) h.end();
  }
}

/** Copy the channel to `io` until it closes; the exit status, or 255 if the remote side gave none. */
function pump(channel: ClientChannel, io: RemoteIO): Promise<number> {
  return new Promise<number>((resolve) => {
    const out = new StringDecoder('utf8');
    const err = new StringDecoder('utf8');
    let status: number = ExitCode.remote;
    channel.on('data', (d: Buffer) => io.stdout(out.write(d)));
    channel.stderr.on('data', (d: Buffer) => io.stderr(err.write(d)));
    channel.on('exit', (code: number | null) => {
      if (typeof code === 'number') status = code;
    });
    if (io.stdin) io.stdin.pipe(channel);
    else channel.end();
    channel.on('close', () => {
      if (io.stdin) io.stdin.unpipe(channel);
      io.stdout(out.end());
      io.stderr(err.end());
      resolve(status);
    });
  });
}

function connect(to: SshEndpoint, s: SshSettings, creds: Credentials, sock: Readable | undefined): Promise<ssh2.Client> {
  const host = hostPattern(to.address, to.port);
  let refusal: string | undefined;
  return new Promise<ssh2.Client>((resolve, reject) => {
    const client = new ssh2.Client();
    const config: ConnectConfig = {
      host: to.address,
      port: to.port,
      username: s.username,
      readyTimeout: s.timeoutMs,
      agentForward: s.forwardAgent && creds.agent !== undefined,
      hostVerifier: (key: Buffer, verify: (ok: boolean) => void) => {
        verifyHost(host, key, s).then(
          (why) => {
            refusal = why;
            verify(why === undefined);
          },
          (err: unknown) => {
            refusal = `cannot check the host key of ${host}: ${errorMessage(err)}`;
            verify(false);
          },
        );
      },
      ...(creds.privateKey ? { privateKey: creds.privateKey } : {}),
      ...(creds.agent ? { agent: creds.agent } : {}),
      ...(sock ? { sock } : {}),
    };
    client.once('ready', () => {
      client.setNoDelay(true);
      client.removeAllListeners('error');
      // A later transport error surfaces through the channel closing; keep it from crashing the process.
      client.on('error', () => undefined);
      resolve(client);
    });
    client.once('error', (err: Error & { code?: string; level?: string }) => {
      client.end();
      reject(new SshError(`unable to SSH: ${refusal ?? explain(err, to, s)}`));
    });
    client.connect(config);
  });
}

function forward(bastion: ssh2.Client, to: SshEndpoint, s: SshSettings): Promise<Readable> {
  return new Promise<Readable>((resolve, reject) => {
    bastion.forwardOut('127.0.0.1', 0, to.address, to.port, (err, stream) => {
      if (err) reject(new SshError(`unable to SSH: the tunnel ${s.tunnel?.address}:${s.tunnel?.port} cannot reach ${to.address}:${to.port} (${err.message})`));
      else resolve(stream);
    });
  });
}

/** undefined when the key is trusted (or was just accepted); otherwise why not, with the fix. */
async function verifyHost(host: string, key: Buffer, s: SshSettings): Promise<string | undefined> {
  if (!s.strictHostKeyChecking) return undefined;
  const verdict = checkHostKey(await readKnownHosts(s.knownHostsFile), host, key);
  if (verdict.kind === 'known') return undefined;
  if (verdict.kind === 'changed') {
    return `host key verification failed: the key of ${host} (${fingerprint(key)}) differs from line ${verdict.line} of ${s.knownHostsFile}; ` +
      'if the host was reinstalled, remove that line, otherwise someone may be intercepting the connection';
  }
  if (s.confirmHost && (await s.confirmHost(host, keyTypeOf(key), fingerprint(key)))) {
    await addKnownHost(s.knownHostsFile, host, key);
    s.notice?.(`Warning: Permanently added '${host}' (${keyTypeOf(key)}) to the list of known hosts.`);
    return undefined;
  }
  return `host key verification failed: ${host} is not in ${s.knownHostsFile}; add its key ` +
    `(ssh-keyscan${host.startsWith('[') ? ` -p ${host.split(':').pop()}` : ''} ${host.replace(/^\[|\]:\d+$/g, '')} >> ${s.knownHostsFile}) or pass --strict-host-key-checking=false`;
}
