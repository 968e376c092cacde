/**
 * A config that holds credentials (etcd_password, or names the client key in
 * etcd_keyfile) must not be readable by other users: flotillad warns at start
 * when it is (bootstraps write such configs mode 0600). A warning and not a
 * refusal, as fleet read its config whatever the mode and a host that boots
 * must still join; the log line names the file and the chmod that fixes it.
 */
import { statSync } from 'node:fs';
import { isAbsolute, resolve, dirname } from 'node:path';

export interface FileMode {
  path: string;
  /** st_mode (permission bits are what matter). */
  mode: number;
}

/** Group- or world-readable. */
function exposed(mode: number): boolean {
  return (mode & 0o044) !== 0;
}

function modeText(mode: number): string {
  return (mode & 0o7777).toString(8).padStart(4, '0');
}

function value(text: string, key: string): string | undefined {
  const m = new RegExp(`^[ \\t]*${key}[ \\t]*=[ \\t]*(.*?)[ \\t]*$`, 'm').exec(text);
  const v = m?.[1]?.replace(/^"(.*)"$/, '$1');
  return v === undefined || v === '' ? undefined : v;
}

/** The keyfile path a config names, resolved as flotillad resolves it (relative to the config's folder). */
export function keyfileOf(configPath: string, text: string): string | undefined {
  const p = value(text, 'etcd_keyfile');
  if (p === undefined) return undefined;
  return isAbsolute(p) ? p : resolve(dirname(configPath), p);
}

/** Pure: the warnings for a config (its mode and text) and the mode of the key file it names, if known. */
export function credentialWarnings(config: FileMode, text: string, keyfile?: FileMode): string[] {
  const out: string[] = [];
  if (value(text, 'etcd_password') !== undefined && exposed(config.mode)) {
    out.push(`config file ${config.path} holds etcd_password but is readable by other users (mode ${modeText(config.mode)}): chmod 600 ${config.path}`);
  }
  if (keyfile && exposed(keyfile.mode)) {
    out.push(`etcd_keyfile ${keyfile.path} is readable by other users (mode ${modeText(keyfile.mode)}): chmod 600 ${keyfile.path}`);
  }
  return out;
}

/** The same, read from disk; files that cannot be stat'ed are left to the config loader's own errors. */
export function configPermissionWarnings(configPath: string, text: string): string[] {
  let config: FileMode;
  try {
    config = { path: configPath, mode: statSync(configPath).mode };
  } catch {
    return [];
  }
  const keyPath = keyfileOf(configPath, text);
  let keyfile: FileMode | undefined;
  if (keyPath !== undefined) {
    try {
      keyfile = { path: keyPath, mode: statSync(keyPath).mode };
    } catch {
      keyfile = undefined;
    }
  }
  return credentialWarnings(config, text, keyfile);
}
