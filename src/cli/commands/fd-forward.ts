/**
 * fd-forward SOCKET (fleet's): copy stdin to a unix socket and the socket to
 * stdout until either side ends. `--tunnel` runs it on the bastion so that
 * the API driver speaks HTTP to flotillad's socket over an SSH channel.
 *
 * Listed in help as fleetctl listed it. Unlike fleetctl, a socket that cannot
 * be dialled exits 1 (fleetctl printed its error and exited 0), so the
 * tunnelling side can tell a forwarder that never connected.
 */
import type { Readable, Writable } from 'node:stream';
import type { Command } from 'commander';
import { FlotillaError } from '../../util/errors.js';

/** After stdin ends, how long the socket may take to finish its answer before it is cut. */
const DRAIN_MS = 2_000;

function dialError(path: string, err: NodeJS.ErrnoException): FlotillaError {
  const why =
    err.code === 'ENOENT' ? `no socket at ${path}: give the path of flotillad's api_socket`
    : err.code === 'ECONNREFUSED' ? `nothing listens on ${path} (connection refused): is flotillad running?`
    : err.code === 'EACCES' ? `permission denied on ${path}: join its group (api_socket_group) or run as root`
    : err.code === 'ENOTSOCK' || err.code === 'ENOTDIR' ? `${path} is not a unix socket: give the path of flotillad's api_socket`
    : `${path}: ${err.message}`;
  return new FlotillaError(`fd-forward: ${why}`);
}

/**
 * Dials `path`, then copies until the socket closes, or `input` ends and the
 * socket has had DRAIN_MS to finish, or `output` fails (its reader left).
 * Rejects only when the socket cannot be dialled.
 */
export async function forwardSocket(path: string, input: Readable, output: Writable, drainMs = DRAIN_MS): Promise<void> {
  // Loaded here, not at flotctl start: help and version do not pay for it.
  const { connect } = await import('node:net');
  return new Promise<void>((resolve, reject) => {
    const sock = connect({ path });
    let connected = false;
    let drain: NodeJS.Timeout | undefined;
    const done = (): void => {
      clearTimeout(drain);
      input.unpipe(sock);
      input.pause();
      sock.destroy();
      resolve();
    };
    sock.once('connect', () => {
      connected = true;
      // pipe() ends the socket's write side when stdin ends: a half-close the server answers by finishing and closing.
      input.pipe(sock);
      sock.pipe(output, { end: false });
      input.once('end', () => {
        drain = setTimeout(done, drainMs);
      });
    });
    sock.on('error', (err: NodeJS.ErrnoException) => {
      if (!connected) {
        reject(dialError(path, err));
        return;
      }
      done();
    });
    sock.once('close', done);
    output.once('error', done);
  });
}

export function registerFdForward(program: Command): void {
  program
    .command('fd-forward')
    .description('copy stdin and stdout to and from a unix socket (what --tunnel runs on the bastion)')
    .argument('[socket...]', "path of a unix socket, e.g. flotillad's /var/run/flotilla.sock")
    .action(async (args: string[]) => {
      if (args.length !== 1) throw new FlotillaError('fd-forward takes a single argument, the path of a unix socket: flotctl fd-forward /var/run/flotilla.sock');
      await forwardSocket(args[0] as string, process.stdin, process.stdout);
    });
}
