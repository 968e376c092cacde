/**
 * flotillad's settings for the parts around the core: the metrics listener
 * (metrics_address) and what the leading engine needs to follow pull
 * sources (git_ssh_key, git_known_hosts, git_host_key_checking,
 * git_cache_dir). Credentials stay on the hosts: every host that can lead
 * needs the same key and known_hosts file.
 */
import { InvalidInputError } from '../util/errors.js';
import { parseListenAddress, type ListenAddress } from '../metrics/http.js';
import { parseAbsolutePath } from './config-values.js';

export const DEFAULT_GIT_CACHE_DIR = '/var/lib/flotilla/git-cache';

export interface GitConfig {
  sshKeyFile?: string;
  knownHostsFile?: string;
  /** strict (default): a server whose key is not in knownHostsFile is refused. */
  hostKeyChecking: 'strict' | 'accept-new';
  cacheDir: string;
}

export type ExtrasRawKey = 'metrics_address' | 'git_ssh_key' | 'git_known_hosts' | 'git_host_key_checking' | 'git_cache_dir';
export type ExtrasRaw = Partial<Record<ExtrasRawKey, string>>;

/** Prometheus cannot scrape a unix socket: a TCP HOST:PORT, or nothing (then only the API listeners serve /metrics). */
export function parseMetricsAddress(raw: ExtrasRaw): ListenAddress | undefined {
  const text = raw.metrics_address?.trim() ?? '';
  return text === '' ? undefined : parseListenAddress(text, 'metrics_address');
}

export function parseGitConfig(raw: ExtrasRaw): GitConfig {
  const path = (k: 'git_ssh_key' | 'git_known_hosts', example: string): string | undefined =>
    raw[k] === undefined || raw[k].trim() === '' ? undefined : parseAbsolutePath(k, raw[k], example);
  const checking = (raw.git_host_key_checking ?? 'strict').trim();
  if (checking !== 'strict' && checking !== 'accept-new') {
    throw new InvalidInputError(`git_host_key_checking "${checking}" is invalid: use strict (an unknown host key fails) or accept-new (a first key is learnt)`);
  }
  const out: GitConfig = {
    hostKeyChecking: checking,
    cacheDir: raw.git_cache_dir === undefined || raw.git_cache_dir.trim() === '' ? DEFAULT_GIT_CACHE_DIR : parseAbsolutePath('git_cache_dir', raw.git_cache_dir, DEFAULT_GIT_CACHE_DIR),
  };
  const key = path('git_ssh_key', '/etc/flotilla/git_ed25519');
  const known = path('git_known_hosts', '/etc/flotilla/git_known_hosts');
  if (key) out.sshKeyFile = key;
  if (known) out.knownHostsFile = known;
  return out;
}
