/**
 * Text each format passes through its own processing, and so must not appear
 * in an input: cloud-init renders a `## template: jinja` user-data as a jinja
 * template, coreos-cloudinit replaces `$private_ipv4` and friends everywhere
 * in the raw user-data. An input holding such text would be silently changed
 * on the host, so it is refused here instead.
 */
import { InvalidInputError } from '../util/errors.js';
import type { BootstrapInputs } from './inputs.js';

export const FORMATS = ['cloud-init', 'ignition', 'coreos-cloudinit'] as const;
export type Format = (typeof FORMATS)[number];

export const JINJA_DELIMITERS = ['{{', '}}', '{%', '%}', '{#', '#}'];
export const COREOS_SUBSTITUTIONS = ['$public_ipv4', '$private_ipv4', '$public_ipv6', '$private_ipv6'];

/** Every string of the inputs that lands on the host, with the input that gave it. */
function inputTexts(i: BootstrapInputs): Array<[string, string]> {
  const out: Array<[string, string | undefined]> = [
    ['etcd_servers', i.etcdServers.join(',')],
    ['etcd_key_prefix', i.etcdKeyPrefix],
    ['etcd_cafile', i.etcdCa?.text],
    ['etcd_certfile', i.etcdCert?.text],
    ['etcd_keyfile', i.etcdKey?.text],
    ['etcd_username', i.etcdUsername],
    ['etcd_password', i.etcdPassword],
    ['metadata', i.metadata],
    ['release_url', i.releaseUrl],
    ...i.sshAuthorizedKeys.map((k): [string, string] => ['ssh_authorized_keys', k]),
    ...i.extraConfig.map(([k, v]): [string, string] => [`config.${k}`, v]),
  ];
  return out.filter((e): e is [string, string] => e[1] !== undefined);
}

export function refuseProcessedText(i: BootstrapInputs, format: string, words: readonly string[], why: string): void {
  for (const [key, text] of inputTexts(i)) {
    const word = words.find((w) => text.includes(w));
    if (word !== undefined) throw new InvalidInputError(`${key} holds "${word}", which ${why}: change that value to render ${format}`);
  }
}
