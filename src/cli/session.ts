/**
 * One flotctl invocation: resolved global options, the output layer, and a
 * cluster client created only when a command needs one (so help and version
 * never touch etcd, and never pay for loading the gRPC stack). The API
 * driver's client (node:http and a few pages) is part of the session: it is
 * the default, and each dynamic import is another round of module loading
 * before a command can start. What only some commands use (etcd, the
 * operations' context with the unit parser, the terminal's readline) is
 * loaded by them: list-units and list-machines run without it.
 */
import { ApiClusterClient } from '../client/api-client.js';
import { parseApiEndpoint, tunnelNeedsSocket } from '../client/api-transport.js';
import type { ClusterClient } from '../client/types.js';
import type { EtcdClusterClient } from '../client/etcd-client.js';
import type { SourceClient } from '../client/sources/source-client.js';
import type { OperationContext } from '../client/operations/context.js';
import { UsageError, errorMessage } from '../util/errors.js';
import type { GlobalOptions } from './globals.js';
import type { StoreSecurity } from '../registry/store-security.js';
import type { Output } from './output.js';
import type { RemoteRunner } from '../client/remote/runner.js';
import type { SshSettings } from '../client/remote/ssh.js';
import { Terminal } from './terminal.js';

export class Session {
  private client: ClusterClient | undefined;
  /** Set when the client is the etcd driver's: the source commands need it. */
  private etcd: EtcdClusterClient | undefined;
  /** Set when the client is the API driver's: its source commands share its transport. */
  private api: ApiClusterClient | undefined;
  private resolved: GlobalOptions | undefined;
  private runner: RemoteRunner | undefined;
  /** Set by commands whose status is not success-or-error (a remote command's exit status). */
  exitCode: number | undefined;
  private tty: Terminal | undefined;

  constructor(
    readonly output: Output,
    private readonly resolveGlobals: () => GlobalOptions,
  ) {}

  get terminal(): Terminal {
    this.tty ??= new Terminal();
    return this.tty;
  }

  get globals(): GlobalOptions {
    if (!this.resolved) {
      this.resolved = this.resolveGlobals();
      this.output.debugEnabled = this.resolved.debug;
    }
    return this.resolved;
  }

  async cluster(): Promise<ClusterClient> {
    if (!this.client) this.client = this.globals.driver === 'api' ? await this.apiClient() : await this.etcdClient();
    return this.client;
  }

  /** flotillad's API: the same --ca-file/--cert-file/--key-file serve an https endpoint. */
  private async apiClient(): Promise<ApiClusterClient> {
    const g = this.globals;
    const endpoint = parseApiEndpoint(g.endpoint, g.endpointSource);
    const { credentials: c, names } = g.store;
    if (c.username || c.password) this.output.err(`Warning: ${c.username ? names.username : names.password} is for etcd; the API driver does not use it`);
    // The variable is left alone: the dev cluster's environment sets it for both drivers.
    if (g.etcdKeyPrefixOnCommandLine) this.output.err('Warning: --etcd-key-prefix is for etcd; the API driver reaches the keyspace its flotillad serves');
    const tls = { names: { caFile: names.caFile, certFile: names.certFile, keyFile: names.keyFile }, ...(c.caFile ? { caFile: c.caFile } : {}), ...(c.certFile ? { certFile: c.certFile } : {}), ...(c.keyFile ? { keyFile: c.keyFile } : {}) };
    if (g.ssh.tunnel && endpoint.kind !== 'unix') throw new UsageError(tunnelNeedsSocket(endpoint.text));
    const dialer = g.ssh.tunnel && endpoint.kind === 'unix' ? await this.socketTunnel(g.ssh.tunnel, endpoint.socket) : undefined;
    const client = (this.api = new ApiClusterClient({ endpoint, requestTimeoutMs: g.requestTimeoutMs, tls, ...(dialer ? { dialer } : {}) }));
    this.output.debug(`using flotillad's API at ${endpoint.text}${dialer ? ` through the tunnel ${g.ssh.tunnel?.address}:${g.ssh.tunnel?.port} (${dialer.command})` : ''}`);
    return client;
  }

  /** --tunnel for the API driver: fd-forward on the bastion (FLOTCTL_TUNNEL_FORWARDER says how to run it there). */
  private async socketTunnel(bastion: { address: string; port: number }, socket: string): Promise<import('../client/remote/tunnel.js').SocketTunnel> {
    const { SocketTunnel, DEFAULT_FORWARDER } = await import('../client/remote/tunnel.js');
    const forwarder = process.env.FLOTCTL_TUNNEL_FORWARDER?.trim() || DEFAULT_FORWARDER;
    return new SocketTunnel({ ssh: this.sshSettings(false), bastion, socket, forwarder });
  }

  /** The global SSH flags as the SSH code takes them. */
  private sshSettings(forwardAgent: boolean): SshSettings {
    const g = this.globals.ssh;
    const confirmHost = this.terminal.hostConfirmer();
    return {
      username: g.username,
      knownHostsFile: g.knownHostsFile,
      strictHostKeyChecking: g.strictHostKeyChecking,
      timeoutMs: g.timeoutMs,
      forwardAgent,
      notice: (line) => this.output.err(line),
      ...(g.identityFile ? { identityFile: g.identityFile } : {}),
      ...(g.agentSocket ? { agentSocket: g.agentSocket } : {}),
      ...(g.tunnel ? { tunnel: g.tunnel } : {}),
      ...(confirmHost ? { confirmHost } : {}),
    };
  }

  private async etcdClient(): Promise<ClusterClient> {
    const g = this.globals;
    // Loaded on demand: the gRPC stack costs ~150 ms that help and version do not need.
    const [{ EtcdClusterClient }, { parseEndpoints }, { checkCredentials, loadStoreSecurity }] = await Promise.all([
      import('../client/etcd-client.js'),
      import('../registry/store.js'),
      import('../registry/store-security.js'),
    ]);
    let endpoints: string[];
    let security: StoreSecurity;
    try {
      endpoints = parseEndpoints(g.endpoint, g.endpointSource);
      const { credentials, names } = g.store;
      for (const w of checkCredentials(credentials, endpoints, names)) this.output.err(`Warning: ${w}`);
      security = loadStoreSecurity(credentials, names);
    } catch (err) {
      throw new UsageError(errorMessage(err));
    }
    if (g.store.passwordInArgv) this.output.err('Warning: --password on the command line is visible to other users (ps): use FLOTCTL_PASSWORD instead');
    this.etcd = EtcdClusterClient.connect({ endpoints, prefix: g.etcdKeyPrefix, requestTimeoutMs: g.requestTimeoutMs, security });
    this.output.debug(`using etcd at ${endpoints.join(',')} with key prefix ${g.etcdKeyPrefix}`);
    return this.etcd;
  }

  /** The source commands' store access, on the same connection. */
  async sources(): Promise<SourceClient> {
    await this.cluster();
    if (this.etcd) {
      const { StoreSourceClient } = await import('../client/sources/store-sources.js');
      const { store, contents } = this.etcd.sourceAccess();
      return new StoreSourceClient(store, contents);
    }
    if (!this.api) throw new Error('session has neither an etcd nor an API client');
    const { ApiSourceClient } = await import('../client/api-sources.js');
    return new ApiSourceClient(this.api);
  }

  async operations(): Promise<OperationContext> {
    const { operationContext } = await import('../client/operations/context.js');
    return operationContext(await this.cluster(), this.output);
  }

  /** Runs commands on machines over SSH, configured by the global SSH flags. */
  async remoteRunner(opts: { sshPort?: number; forwardAgent: boolean }): Promise<RemoteRunner> {
    const g = this.globals.ssh;
    const { RemoteRunner: Runner, localMachineId } = await import('../client/remote/runner.js');
    if (opts.forwardAgent && !g.agentSocket) this.output.err('Warning: --forward-agent needs a running ssh-agent (SSH_AUTH_SOCK is not set); not forwarding');
    this.runner?.close();
    this.runner = new Runner({
      ssh: this.sshSettings(opts.forwardAgent),
      ...(opts.sshPort !== undefined ? { sshPort: opts.sshPort } : {}),
      ...(await localMachineId().then((id) => (id ? { localMachineId: id } : {}))),
    });
    return this.runner;
  }

  async close(): Promise<void> {
    this.runner?.close();
    this.runner = undefined;
    const c = this.client;
    this.client = undefined;
    this.etcd = undefined;
    this.api = undefined;
    if (c) await c.close();
  }
}
