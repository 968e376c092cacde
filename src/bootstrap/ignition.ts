/**
 * Ignition config, spec 3.3.0, the Flatcar way: storage.files for the plan's
 * files (modes as decimal integers, contents as data: URLs), the release
 * itself fetched by Ignition with verification.hash so the oneshot only
 * unpacks it, systemd.units for flotilla-install.service (enabled) and the
 * address drop-in for flotillad.service. Ignition runs on the first boot only;
 * updates go through release.env (see host-plan.ts).
 *
 * Flatcar has no user-data templating: with an address from metadata,
 * flotillad.service reads Afterburn's /run/metadata/flatcar and passes the
 * named variable as FLOTILLA_PUBLIC_IP (empty when Afterburn did not write it:
 * flotillad then finds its address itself).
 */
import type { BootstrapInputs } from './inputs.js';
import { hostPlan, PATHS, type Addressing, type PlanDropin } from './host-plan.js';

export const IGNITION_VERSION = '3.3.0';

export interface IgnitionConfig {
  ignition: { version: string };
  passwd?: { users: Array<{ name: string; sshAuthorizedKeys: string[] }> };
  storage: { files: IgnitionFile[] };
  systemd: { units: IgnitionUnit[] };
}

interface IgnitionFile {
  path: string;
  mode: number;
  contents: { source: string; verification?: { hash: string } };
}

interface IgnitionUnit {
  name: string;
  enabled?: boolean;
  contents?: string;
  dropins?: Array<{ name: string; contents: string }>;
}

export function ignitionConfig(inputs: BootstrapInputs): IgnitionConfig {
  let addressing: Addressing = {};
  if (inputs.publicIp.kind === 'literal') addressing = { configValue: inputs.publicIp.address };
  if (inputs.publicIp.kind === 'metadata') addressing = { flotilladDropin: afterburnDropin(inputs.afterburnVariable) };
  const plan = hostPlan(inputs, addressing);
  const files: IgnitionFile[] = plan.files.map((f) => ({ path: f.path, mode: f.mode, contents: { source: dataUrl(f.content) } }));
  files.push({ path: plan.release.cachePath, mode: 0o644, contents: { source: plan.release.url, verification: { hash: `sha256-${plan.release.sha256}` } } });
  const config: IgnitionConfig = {
    ignition: { version: IGNITION_VERSION },
    storage: { files },
    systemd: {
      units: plan.units.map((u) => ({
        name: u.name,
        ...(u.enable ? { enabled: true } : {}),
        ...(u.contents === undefined ? {} : { contents: u.contents }),
        ...(u.dropins.length > 0 ? { dropins: u.dropins } : {}),
      })),
    },
  };
  if (plan.sshAuthorizedKeys.length > 0) config.passwd = { users: [{ name: 'core', sshAuthorizedKeys: plan.sshAuthorizedKeys }] };
  return config;
}

export function renderIgnition(inputs: BootstrapInputs): string {
  return `${JSON.stringify(ignitionConfig(inputs), null, 2)}\n`;
}

/** RFC 2397 with percent-encoding, as Butane writes inline contents (without its gzip). */
export function dataUrl(text: string): string {
  return `data:,${encodeURIComponent(text)}`;
}

function afterburnDropin(variable: string): PlanDropin {
  return {
    name: '10-afterburn-address.conf',
    contents: `# The published address from Afterburn (coreos-metadata.service), which writes
# /run/metadata/flatcar; empty when it did not: flotillad then finds its address.
[Unit]
Wants=coreos-metadata.service
After=coreos-metadata.service

[Service]
EnvironmentFile=-/run/metadata/flatcar
ExecStart=
ExecStart=/usr/bin/env FLOTILLA_PUBLIC_IP=\${${variable}} ${PATHS.flotillad} --config ${PATHS.config}
`,
  };
}
