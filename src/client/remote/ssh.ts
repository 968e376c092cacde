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
import type { ClientChannel, ConnectConfig, ServerHostKeyAlgorithm } from 'ssh2';
import { ExitCode, SshError, errorMessage } from '../../util/errors.js';
import { addKnownHost, checkHostKey, fingerprint, hostPattern, keyTypeOf, knownKeyTypes, readKnownHosts } from './known-hosts.js';

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
  /**
   * flotctl's own lines among the remote output (a machine's header, why a machine could
   * not be reached). They hold store data, so the CLI prints them through its output layer,
   * which escapes control characters; without this they go to stdout/stderr unchanged.
   */
  own?: { out: (line: string) => void; err: (line: string) => void };
  stdin?: Readable;
  /** Ask for a terminal (interactive shell on a TTY). */
  pty?: { term: string; rows: number; cols: number };
  /** Called once the remote side runs the command: the moment to put a local terminal in raw mode. */
  onOpen?: () => void;
  /** Subscribes to local window size changes, forwarded to the remote terminal. */
  watchResize?: (listener: (rows: number, cols: number) => void) => () => void;
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
  if (err.level === 'client-authentication') {
    return `${where} refused the key for user ${s.username}: authorize it there, or change --ssh-username / --ssh-identity`;
  }
  return `${where}: ${err.message}`;
}

/**
 * An authenticated connection to `to` itself (no hop), for channels of its own:
 * the API driver's --tunnel runs fd-forward on the bastion over it.
 */
export async function connectHost(to: SshEndpoint, s: SshSettings): Promise<ssh2.Client> {
  return connect(to, s, await credentials(s), undefined);
}

export class SshSession {
  /** A transport error after the connection was up; reported when a command ends without a status. */
  private lost: string | undefined;

  private constructor(
    private readonly client: ssh2.Client,
    private readonly hops: ssh2.Client[],
    private readonly where: string,
  ) {
    client.on('error', (err: Error) => {
      this.lost = err.message;
    });
  }

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
      return new SshSession(await connect(to, s, creds, sock), hops, `${to.address}:${to.port}`);
    } catch (err) {
      for (const h of hops) h.end();
      throw err;
    }
  }

  /** Runs `command` (or a login shell when undefined); resolves with its exit status. */
  async run(command: string | undefined, io: RemoteIO): Promise<number> {
    const end = await new Promise<ChannelEnd>((resolve, reject) => {
      // pump must attach in this callback: ssh2 may deliver output, exit status and close
      // in the same packet as the open confirmation, before any promise continuation runs.
      const started = (err: Error | undefined, ch: ClientChannel): void => {
        if (err) reject(new SshError(`${this.where} refused to run the command: ${err.message}`));
        else resolve(pump(ch, io));
      };
      if (command !== undefined) this.client.exec(command, started);
      else if (io.pty) this.client.shell({ term: io.pty.term, rows: io.pty.rows, cols: io.pty.cols }, started);
      else this.client.shell(false, started);
    });
    if (end.code !== undefined) return end.code;
    // Killed by a signal there: 255 like ssh(1), with nothing to add.
    if (end.signal !== undefined) return ExitCode.remote;
    throw new SshError(`connection to ${this.where} lost before the command finished${this.lost ? `: ${this.lost}` : ''}`);
  }

  close(): void {
    this.client.end();
    for (const h of this.hops) h.end();
  }
}

interface ChannelEnd {
  code?: number;
  signal?: string;
}

/** Copy the channel to `io` until it closes; how the remote command ended, if the remote side said. */
function pump(channel: ClientChannel, io: RemoteIO): Promise<ChannelEnd> {
  return new Promise<ChannelEnd>((resolve) => {
    const out = new StringDecoder('utf8');
    const err = new StringDecoder('utf8');
    const end: ChannelEnd = {};
    channel.on('data', (d: Buffer) => io.stdout(out.write(d)));
    channel.stderr.on('data', (d: Buffer) => io.stderr(err.write(d)));
    channel.on('exit', (code: number | null, signal?: string) => {
      if (typeof code === 'number') end.code = code;
      else if (signal) end.signal = signal;
    });
    const unwatch = io.watchResize?.((rows, cols) => channel.setWindow(rows, cols, 0, 0));
    io.onOpen?.();
    if (io.stdin) io.stdin.pipe(channel);
    else channel.end();
    channel.on('close', () => {
      unwatch?.();
      if (io.stdin) io.stdin.unpipe(channel);
      io.stdout(out.end());
      io.stderr(err.end());
      resolve(end);
    });
  });
}

const HOST_KEY_ALGORITHMS: ServerHostKeyAlgorithm[] = ['ssh-ed25519', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521', 'rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'];

/** ssh2's algorithm names for a key type as known_hosts writes it (none for types ssh2 lacks). */
function hostKeyAlgorithms(keyType: string): ServerHostKeyAlgorithm[] {
  const names = keyType === 'ssh-rsa' ? ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'] : [keyType];
  return HOST_KEY_ALGORITHMS.filter((a) => names.includes(a));
}

const KEEPALIVE_MS = 5_000;

async function connect(to: SshEndpoint, s: SshSettings, creds: Credentials, sock: Readable | undefined): Promise<ssh2.Client> {
  const host = hostPattern(to.address, to.port);
  // Ask for a key type known_hosts already holds for this host, as OpenSSH does, so a host
  // listed only with (say) its ECDSA key is not reported as changed when it offers ed25519.
  const known = s.strictHostKeyChecking ? knownKeyTypes(await readKnownHosts(s.knownHostsFile), host).flatMap(hostKeyAlgorithms) : [];
  let refusal: string | undefined;
  return new Promise<ssh2.Client>((resolve, reject) => {
    const client = new ssh2.Client();
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    const fail = (why: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      client.end();
      reject(new SshError(`unable to SSH: ${why}`));
    };
    // Our own dial deadline, paused while a person answers the host-key question
    // (ssh2's readyTimeout would count their thinking time).
    const arm = (): void => {
      clearTimeout(timer);
      timer = setTimeout(() => fail(`no answer from ${to.address}:${to.port} within ${s.timeoutMs / 1000} s: check the address, or raise --ssh-timeout`), s.timeoutMs);
    };
    const asking: SshSettings = s.confirmHost === undefined ? s : {
      ...s,
      confirmHost: async (h, type, fp) => {
        clearTimeout(timer);
        try {
          return await (s.confirmHost as NonNullable<SshSettings['confirmHost']>)(h, type, fp);
        } finally {
          arm();
        }
      },
    };
    const config: ConnectConfig = {
      host: to.address,
      port: to.port,
      username: s.username,
      readyTimeout: 0,
      keepaliveInterval: KEEPALIVE_MS,
      keepaliveCountMax: 3,
      agentForward: s.forwardAgent && creds.agent !== undefined,
      hostVerifier: (key: Buffer, verify: (ok: boolean) => void) => {
        verifyHost(host, key, asking).then(
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
      ...(known.length > 0 ? { algorithms: { serverHostKey: [...known, ...HOST_KEY_ALGORITHMS.filter((a) => !known.includes(a))] } } : {}),
      ...(creds.privateKey ? { privateKey: creds.privateKey } : {}),
      ...(creds.agent ? { agent: creds.agent } : {}),
      ...(sock ? { sock } : {}),
    };
    client.once('ready', () => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      client.setNoDelay(true);
      client.removeAllListeners('error');
      resolve(client);
    });
    client.on('error', (err: Error & { code?: string; level?: string }) => fail(refusal ?? explain(err, to, s)));
    arm();
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
  if (verdict.kind === 'revoked') {
    return `host key verification failed: the key of ${host} (${fingerprint(key)}) is marked @revoked on line ${verdict.line} of ${s.knownHostsFile}`;
  }
  if (verdict.kind === 'changed' && verdict.knownType !== undefined) {
    return `host key verification failed: ${host} offered a ${keyTypeOf(key)} key (${fingerprint(key)}) but line ${verdict.line} of ${s.knownHostsFile} ` +
      `lists its ${verdict.knownType} key; if the host was reinstalled, remove its lines (ssh-keygen -R '${host}' -f ${s.knownHostsFile}), otherwise someone may be intercepting the connection`;
  }
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
