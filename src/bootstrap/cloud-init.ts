/**
 * `#cloud-config` for cloud-init (Debian, Ubuntu, Fedora, ... hosts):
 * write_files for the plan's files, then runcmd enables and starts
 * flotilla-install.service. cloud-init has no $private_ipv4 substitution;
 * when the address comes from metadata the file is a jinja template over
 * cloud-init's instance data (EC2-style meta-data keys local-ipv4 and
 * public-ipv4, which NoCloud seeds may carry too), falling back to flotillad's
 * own detection when the datasource has no such key.
 */
import { stringify } from 'yaml';
import type { BootstrapInputs } from './inputs.js';
import { hostPlan, type Addressing } from './host-plan.js';
import { JINJA_DELIMITERS, refuseProcessedText } from './formats.js';
import { header, octal } from './text.js';

const ADDRESS_MARK = '@FLOTILLA_PUBLIC_IP@';

export function renderCloudInit(inputs: BootstrapInputs): string {
  const jinja = inputs.publicIp.kind === 'metadata';
  let addressing: Addressing = {};
  if (inputs.publicIp.kind === 'literal') addressing = { configValue: inputs.publicIp.address };
  if (jinja) {
    refuseProcessedText(inputs, 'a cloud-init jinja template', JINJA_DELIMITERS, "cloud-init's jinja would expand");
    addressing = { configValue: ADDRESS_MARK };
  }
  const plan = hostPlan(inputs, addressing);
  const unitFiles = plan.units.flatMap((u) => [
    ...(u.contents === undefined ? [] : [{ path: `/etc/systemd/system/${u.name}`, mode: 0o644, content: u.contents }]),
    ...u.dropins.map((d) => ({ path: `/etc/systemd/system/${u.name}.d/${d.name}`, mode: 0o644, content: d.contents })),
  ]);
  const doc: Record<string, unknown> = {
    write_files: [...plan.files, ...unitFiles].map((f) => ({ path: f.path, owner: 'root:root', permissions: octal(f.mode), content: f.content })),
  };
  if (plan.sshAuthorizedKeys.length > 0) doc.ssh_authorized_keys = plan.sshAuthorizedKeys;
  // runcmd runs in cloud-final.service: --no-block, as a start job waited on from there can deadlock the boot.
  doc.runcmd = [`systemctl enable --now --no-block ${plan.units.filter((u) => u.enable).map((u) => u.name).join(' ')}`];
  let body = stringify(doc, { version: '1.1', lineWidth: 0 });
  if (jinja) {
    const key = inputs.publicIp.kind === 'metadata' && inputs.publicIp.which === 'public' ? 'public_ipv4' : 'local_ipv4';
    body = body.replace(ADDRESS_MARK, `{{ ds.meta_data.${key} | default('') }}`);
  }
  const lines = header('cloud-init', [
    'cloud-init writes the files below, then runcmd starts flotilla-install.service, which',
    'downloads the release, checks its SHA-256, unpacks it to /opt/flotilla and starts flotillad.',
    ...(jinja ? ['A jinja template (first line): public_ip comes from the instance meta-data;', 'validate with: cloud-init devel render FILE > out.yaml && cloud-init schema --config-file out.yaml'] : []),
  ]);
  return `${jinja ? '## template: jinja\n' : ''}#cloud-config\n${lines}${body}`;
}
