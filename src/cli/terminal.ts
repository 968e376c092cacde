/**
 * The interactive side of flotctl, used only by commands that talk to a
 * machine: the host-key question and the raw terminal of `flotctl ssh`.
 * Everything here is inert unless stdin (and stderr, for prompts) is a TTY,
 * so scripts and tests never block on a question.
 */
import type { RemoteIO } from '../client/remote/ssh.js';
import { terminalSafeCell } from './output.js';

type TtyIn = NodeJS.ReadStream & { isTTY?: boolean; setRawMode?: (raw: boolean) => unknown };
type Writers = Pick<RemoteIO, 'stdout' | 'stderr' | 'own'>;

export class Terminal {
  /** One question at a time: a global unit's machines are dialled in parallel. */
  private asking: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly stdin: TtyIn = process.stdin,
    private readonly stdout: NodeJS.WriteStream = process.stdout,
    private readonly stderr: NodeJS.WriteStream = process.stderr,
  ) {}

  get interactive(): boolean {
    return this.stdin.isTTY === true && this.stderr.isTTY === true;
  }

  /** OpenSSH's question for an unknown host; only on a terminal (undefined otherwise: refuse). Ctrl-C answers no. */
  hostConfirmer(): ((host: string, keyType: string, fp: string) => Promise<boolean>) | undefined {
    if (!this.interactive) return undefined;
    return (host, keyType, fp) => {
      // The host is a machine's IP as read from etcd: shown through the output layer's escaping.
      const turn = this.asking.then(() => this.ask(
        `The authenticity of host '${terminalSafeCell(host)}' can't be established.\n${terminalSafeCell(keyType)} key fingerprint is ${fp}.\nAre you sure you want to continue connecting (yes/no)? `,
      ));
      // Questions are asked one at a time; a failed one is its caller's, the next still asks.
      this.asking = turn.catch(() => undefined);
      return turn;
    };
  }

  private async ask(question: string): Promise<boolean> {
    // Loaded here, by the one question a run may ask: every other command starts without readline.
    const { createInterface } = await import('node:readline/promises');
    const rl = createInterface({ input: this.stdin, output: this.stderr });
    const abort = new AbortController();
    rl.on('SIGINT', () => abort.abort());
    try {
      const answer = await rl.question(question, { signal: abort.signal });
      return /^(y|yes)$/i.test(answer.trim());
    } catch {
      this.stderr.write('\n');
      return false;
    } finally {
      rl.close();
    }
  }

  /**
   * IO for a remote command. With `shell` on a terminal: a PTY of the local
   * window's size, and raw local input from the moment the remote shell runs
   * (not before: Ctrl-C must still stop a slow connect) until `release`.
   */
  remoteIO(write: Writers, opts: { stdin: boolean; shell: boolean }): { io: RemoteIO; release: () => void } {
    const io: RemoteIO = { ...write };
    if (!opts.stdin) return { io, release: () => undefined };
    io.stdin = this.stdin;
    if (!(opts.shell && this.stdin.isTTY === true && this.stdout.isTTY === true)) {
      return { io, release: () => this.stdin.pause() };
    }
    let raw = false;
    io.pty = { term: process.env.TERM || 'xterm-256color', rows: this.stdout.rows, cols: this.stdout.columns };
    io.onOpen = () => {
      raw = true;
      this.stdin.setRawMode?.(true);
    };
    io.watchResize = (listener) => {
      const onResize = (): void => listener(this.stdout.rows, this.stdout.columns);
      this.stdout.on('resize', onResize);
      return () => this.stdout.off('resize', onResize);
    };
    return {
      io,
      release: () => {
        if (raw) this.stdin.setRawMode?.(false);
        this.stdin.pause();
      },
    };
  }
}
