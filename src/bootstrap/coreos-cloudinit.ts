/**
 * The CoreOS Container Linux / Flatcar coreos-cloudinit format fleet users
 * know: write_files (permissions as quoted octal strings) and coreos.units,
 * where flotilla-install.service is enabled and started (`command: start`).
 * coreos-cloudinit replaces $private_ipv4 / $public_ipv4 in the raw file with
 * the datasource's addresses, so public_ip takes that word. It runs on every
 * boot: files are rewritten from user-data each time, so changing the release
 * in user-data and rebooting updates a host.
 */
import { stringify } from 'yaml';
import type { BootstrapInputs } from './inputs.js';
import { hostPlan, type Addressing } from './host-plan.js';
import { COREOS_SUBSTITUTIONS, refuseProcessedText } from './formats.js';
import { header, octal } from './text.js';

export function renderCoreosCloudinit(inputs: BootstrapInputs): string {
  refuseProcessedText(inputs, 'coreos-cloudinit', COREOS_SUBSTITUTIONS, 'coreos-cloudinit would replace with an address');
  let addressing: Addressing = {};
  if (inputs.publicIp.kind === 'literal') addressing = { configValue: inputs.publicIp.address };
  if (inputs.publicIp.kind === 'metadata') addressing = { configValue: inputs.publicIp.which === 'public' ? '$public_ipv4' : '$private_ipv4' };
  const plan = hostPlan(inputs, addressing);
  const doc: Record<string, unknown> = {
    write_files: plan.files.map((f) => ({ path: f.path, owner: 'root:root', permissions: octal(f.mode), content: f.content })),
  };
  if (plan.sshAuthorizedKeys.length > 0) doc.ssh_authorized_keys = plan.sshAuthorizedKeys;
  doc.coreos = {
    units: plan.units.map((u) => ({
      name: u.name,
      ...(u.enable ? { enable: true, command: 'start' } : {}),
      ...(u.contents === undefined ? {} : { content: u.contents }),
      ...(u.dropins.length > 0 ? { 'drop-ins': u.dropins.map((d) => ({ name: d.name, content: d.contents })) } : {}),
    })),
  };
  const notes = [
    'coreos-cloudinit writes the files below and starts flotilla-install.service, which downloads',
    'the release, checks its SHA-256, unpacks it to /opt/flotilla and starts flotillad.',
    'Checked against coreos-cloudinit\'s documented keys and rules by the project\'s tests; not booted.',
  ];
  return `#cloud-config\n${header('coreos-cloudinit', notes)}${stringify(doc, { version: '1.1', lineWidth: 0 })}`;
}
