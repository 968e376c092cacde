/**
 * The interactive side of flotctl, used only by commands that talk to a
 * machine: the host-key question and the raw terminal of `flotctl ssh`.
 * Everything here is inert unless stdin (and stderr, for prompts) is a TTY,
 * so scripts and tests never block on a question.
 */
import { createInterface } from 'node:readline/promises';
import type { RemoteIO } from '../client/remote/ssh.js';

type TtyIn = NodeJS.ReadStream & { isTTY?: boolean; setRawMode?: (raw: boolean) => unknown };

export class Terminal {
  constructor(
    private readonly stdin: TtyIn = process.stdin,
    private readonly stdout: NodeJS.WriteStream = process.stdout,
    private readonly stderr: NodeJS.WriteStream = process.stderr,
  ) {}

  get interactive(): boolean {
    return this.stdin.isTTY === true && this.stderr.isTTY === true;
  }

  /** OpenSSH's question for an unknown host; only on a terminal (undefined otherwise: refuse). */
  hostConfirmer(): ((host: string, keyType: string, fp: string) => Promise<boolean>) | undefined {
    if (!this.interactive) return undefined;
    return async (host, keyType, fp) => {
      const rl = createInterface({ input: this.stdin, output: this.stderr });
      try {
        const answer = await rl.question(
          `The authenticity of host '${host}' can't be established.\n${keyType} key fingerprint is ${fp}.\nAre you sure you want to continue connecting (yes/no)? `,
        );
        return /^(y|yes)$/i.test(answer.trim());
      } finally {
        rl.close();
      }
    };
  }

  /**
   * IO for a remote command. With `shell` on a terminal: a PTY of the local
   * window's size and raw local input until `release` is called.
   */
  remoteIO(write: { stdout: (t: string) => void; stderr: (t: string) => void }, opts: { stdin: boolean; shell: boolean }): { io: RemoteIO; release: () => void } {
    const io: RemoteIO = { ...write };
    if (!opts.stdin) return { io, release: () => undefined };
    io.stdin = this.stdin;
    if (!(opts.shell && this.stdin.isTTY === true && this.stdout.isTTY === true)) {
      return { io, release: () => this.stdin.pause() };
    }
    io.pty = { term: process.env.TERM ?? 'xterm-256color', rows: this.stdout.rows, cols: this.stdout.columns };
    this.stdin.setRawMode?.(true);
    return {
      io,
      release: () => {
        this.stdin.setRawMode?.(false);
        this.stdin.pause();
      },
    };
  }
}
