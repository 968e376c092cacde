/**
 * The format-neutral model of a bootstrapped host: which files it gets, with
 * which modes, and which units. Each renderer says this plan in its own
 * language (cloud-init, Ignition, coreos-cloudinit), so the three bootstraps
 * install the same host by construction.
 *
 * Every format installs the same way: it writes flotillad.conf, the TLS
 * material, release.env and the install script, and enables
 * flotilla-install.service, a oneshot that downloads the release (unless it is
 * already there, as Ignition fetches it itself), checks its SHA-256, unpacks
 * it to /opt/flotilla, installs the release's own flotillad.service and starts
 * it. It runs on every boot and does nothing when the release is current, so
 * changing release.env and restarting it is how a host is updated.
 */
import { holdsCredentials, type BootstrapInputs } from './inputs.js';
import { installScript } from './install-script.js';

export const PATHS = {
  configDir: '/etc/flotilla',
  config: '/etc/flotilla/flotillad.conf',
  ca: '/etc/flotilla/etcd-ca.pem',
  cert: '/etc/flotilla/etcd-client.pem',
  key: '/etc/flotilla/etcd-client-key.pem',
  releaseEnv: '/etc/flotilla/release.env',
  installScript: '/etc/flotilla/install-release',
  /** Where the release tarball is kept (Ignition downloads it here itself). */
  releaseCache: '/var/lib/flotilla/release.tar.gz',
  installDir: '/opt/flotilla',
  flotillad: '/opt/flotilla/bin/flotillad',
} as const;

export const INSTALL_UNIT = 'flotilla-install.service';
export const DAEMON_UNIT = 'flotillad.service';

export interface PlanFile {
  path: string;
  /** Permission bits, e.g. 0o600. */
  mode: number;
  content: string;
}

export interface PlanDropin {
  name: string;
  contents: string;
}

export interface PlanUnit {
  name: string;
  /** Absent: the unit comes from elsewhere (the release) and only gets drop-ins here. */
  contents?: string;
  /** Enabled (it has an [Install] section) and started at first boot. */
  enable: boolean;
  dropins: PlanDropin[];
}

export interface HostPlan {
  files: PlanFile[];
  units: PlanUnit[];
  sshAuthorizedKeys: string[];
  release: { url: string; sha256: string; cachePath: string };
}

/** How a format gives the host its published address. */
export interface Addressing {
  /** The value of the public_ip line in flotillad.conf; absent: no line (flotillad finds it, or a drop-in sets it). */
  configValue?: string;
  /** A drop-in for flotillad.service (Flatcar's Afterburn environment). */
  flotilladDropin?: PlanDropin;
}

export function hostPlan(inputs: BootstrapInputs, addressing: Addressing): HostPlan {
  const files: PlanFile[] = [];
  if (inputs.etcdCa) files.push({ path: PATHS.ca, mode: 0o644, content: inputs.etcdCa.text });
  if (inputs.etcdCert) files.push({ path: PATHS.cert, mode: 0o644, content: inputs.etcdCert.text });
  if (inputs.etcdKey) files.push({ path: PATHS.key, mode: 0o600, content: inputs.etcdKey.text });
  files.push({ path: PATHS.config, mode: holdsCredentials(inputs) ? 0o600 : 0o644, content: daemonConfig(inputs, addressing) });
  files.push({ path: PATHS.releaseEnv, mode: 0o644, content: releaseEnv(inputs) });
  files.push({ path: PATHS.installScript, mode: 0o755, content: installScript() });
  const units: PlanUnit[] = [{ name: INSTALL_UNIT, contents: installUnit(), enable: true, dropins: [] }];
  if (addressing.flotilladDropin) units.push({ name: DAEMON_UNIT, enable: false, dropins: [addressing.flotilladDropin] });
  return {
    files,
    units,
    sshAuthorizedKeys: inputs.sshAuthorizedKeys,
    release: { url: inputs.releaseUrl, sha256: inputs.releaseSha256, cachePath: PATHS.releaseCache },
  };
}

function daemonConfig(i: BootstrapInputs, addressing: Addressing): string {
  const publicIp = addressing.configValue;
  const lines: Array<[string, string | undefined]> = [
    ['etcd_servers', i.etcdServers.join(',')],
    ['etcd_key_prefix', i.etcdKeyPrefix],
    ['etcd_cafile', i.etcdCa && PATHS.ca],
    ['etcd_certfile', i.etcdCert && PATHS.cert],
    ['etcd_keyfile', i.etcdKey && PATHS.key],
    ['etcd_username', i.etcdUsername],
    ['etcd_password', i.etcdPassword],
    ['public_ip', publicIp],
    ['metadata', i.metadata],
    ['agent_ttl', i.agentTtl],
    ...i.extraConfig,
  ];
  const head = [
    '# flotillad configuration, written by `flotillad bootstrap-config`.',
    addressing.flotilladDropin
      ? `# public_ip is given by ${DAEMON_UNIT}.d/${addressing.flotilladDropin.name}.`
      : publicIp === undefined
        ? '# No public_ip line: flotillad publishes the address of its default-route interface.'
        : undefined,
  ].filter((l) => l !== undefined);
  return [...head, ...lines.filter(([, v]) => v !== undefined).map(([k, v]) => `${k}=${v}`)].join('\n') + '\n';
}

function releaseEnv(i: BootstrapInputs): string {
  return [
    '# The Flotilla release this host runs. To update: change both lines, then',
    `# systemctl restart ${INSTALL_UNIT}`,
    `FLOTILLA_RELEASE_URL=${i.releaseUrl}`,
    `FLOTILLA_RELEASE_SHA256=${i.releaseSha256}`,
  ].join('\n') + '\n';
}

function installUnit(): string {
  return `[Unit]
Description=Install the Flotilla release named in ${PATHS.releaseEnv} and start flotillad
Wants=network-online.target
After=network-online.target

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/bin/sh ${PATHS.installScript}
# A download that fails (network not up yet, server down) is tried again.
Restart=on-failure
RestartSec=5

[Install]
WantedBy=multi-user.target
`;
}
