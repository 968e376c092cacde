/**
 * What a SIGHUP can change in a running flotillad without touching units:
 * what the machine publishes (metadata, public_ip, ssh_port, systemd_scope)
 * and keep_units_on_shutdown. Everything else (etcd, the lease TTL, the
 * units directory, the bus, logging) is fixed for the process's life: a
 * changed value is named as needing a restart and the old one kept.
 */
import { isDeepStrictEqual } from 'node:util';
import type { ConfigKey, DaemonConfig } from './config.js';

type Field = keyof DaemonConfig;

/** The config keys behind each field, for messages (never the values: some are secrets). */
const FIELD_KEYS: Record<Field, readonly ConfigKey[]> = {
  etcdServers: ['etcd_servers'],
  etcdKeyPrefix: ['etcd_key_prefix'],
  etcdRequestTimeoutMs: ['etcd_request_timeout'],
  etcdSecurity: ['etcd_cafile', 'etcd_certfile', 'etcd_keyfile', 'etcd_username', 'etcd_password'],
  machineId: ['machine_id'],
  publicIP: ['public_ip'],
  metadata: ['metadata'],
  agentTtlSeconds: ['agent_ttl'],
  unitsDirectory: ['units_directory'],
  systemdBusAddress: ['systemd_bus_address'],
  logFormat: ['log_format'],
  verbosity: ['verbosity'],
  disableEngine: ['disable_engine'],
  keepUnitsOnShutdown: ['keep_units_on_shutdown'],
  hostRoot: ['host_root'],
  sshPort: ['ssh_port'],
  systemdScope: ['systemd_scope', 'systemd_user'],
  api: ['api_socket', 'api_socket_group', 'api_address', 'api_cafile', 'api_certfile', 'api_keyfile', 'token_limit'],
  metricsAddress: ['metrics_address'],
  git: ['git_ssh_key', 'git_known_hosts', 'git_host_key_checking', 'git_cache_dir'],
};

export const RELOADABLE: ReadonlySet<Field> = new Set<Field>(['publicIP', 'metadata', 'sshPort', 'systemdScope', 'keepUnitsOnShutdown']);

export interface ConfigDiff {
  /** Config keys whose new value a reload applies. */
  applied: ConfigKey[];
  /** Config keys that changed but take effect only after a restart. */
  needRestart: ConfigKey[];
  /** The running config with the applicable changes made. */
  next: DaemonConfig;
}

export function diffConfig(running: DaemonConfig, loaded: DaemonConfig): ConfigDiff {
  const applied: ConfigKey[] = [];
  const needRestart: ConfigKey[] = [];
  const next: DaemonConfig = { ...running };
  for (const field of Object.keys(FIELD_KEYS) as Field[]) {
    if (isDeepStrictEqual(running[field], loaded[field])) continue;
    if (RELOADABLE.has(field)) {
      applied.push(...FIELD_KEYS[field]);
      (next as unknown as Record<Field, unknown>)[field] = loaded[field];
    } else {
      needRestart.push(...FIELD_KEYS[field]);
    }
  }
  return { applied, needRestart, next };
}
