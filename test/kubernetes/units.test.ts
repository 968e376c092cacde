/**
 * units/kubernetes/ is the generator's output for the pinned release: the
 * checked-in files must equal it, every image comes from the one pin, a bump
 * changes the files, and placement is the fleet-era pattern.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { UNITS_DIR, staleFiles } from '../../src/kubernetes/generate.js';
import { RELEASE, REPOSITORY_VARIABLES } from '../../src/kubernetes/release.js';
import { renderUnits } from '../../src/kubernetes/render.js';
import { UnitFile, parseRequirements, validateRequirements } from '../../src/unit/index.js';

const units = renderUnits(RELEASE);

function xfleet(name: string): Record<string, string[]> {
  const file = UnitFile.parse(units.get(name) as string);
  const { requirements, warnings } = parseRequirements(file, name);
  assert.deepEqual(warnings, [], name);
  validateRequirements(requirements);
  const out: Record<string, string[]> = {};
  for (const o of file.options.filter((x) => x.section === 'X-Fleet')) (out[o.name] ??= []).push(o.value);
  return out;
}

test('the checked-in units/kubernetes files are the generator’s output (npm run units:kubernetes)', async () => {
  assert.deepEqual(await staleFiles(), []);
  const shipped = readdirSync(UNITS_DIR).filter((n) => n.endsWith('.service')).sort();
  assert.deepEqual(shipped, [...units.keys()].sort(), 'a unit file the generator does not make');
});

test('every image is pinned in release.ts; only the repository comes from the host', () => {
  for (const [name, text] of units) {
    const images = [...text.matchAll(/\$\{(\w+)\}\/([\w.-]+):(\S+)/g)];
    assert.ok(images.length >= 2, `${name} pulls and runs an image`);
    for (const [, variable, image, tag] of images) {
      assert.ok(Object.values(REPOSITORY_VARIABLES).includes(variable as never), `${name}: ${variable}`);
      assert.equal(tag, image === 'etcd' ? RELEASE.etcd : RELEASE.kubernetes, `${name}: ${image}:${tag}`);
    }
    // No registry host written anywhere but the default the host may override.
    const hosts = text.split('\n').filter((l) => /registry\.k8s\.io|quay\.io/.test(l));
    assert.equal(hosts.length, 1, `${name}: ${hosts.join(' | ')}`);
    assert.match(hosts[0] as string, /^Environment=(KUBE|KUBELET)_IMAGE_REPOSITORY=/);
    assert.match(text, /^EnvironmentFile=-%E\/kubernetes\/images\.env$/m);
  }
  assert.match(units.get('kubelet.service') as string, /^Environment=KUBELET_IMAGE_REPOSITORY=quay\.io\/poseidon$/m);
  assert.match(units.get('kube-apiserver.service') as string, /^Environment=KUBE_IMAGE_REPOSITORY=registry\.k8s\.io$/m);
});

test('a version bump changes the hash of exactly the units whose image it changes (so a sync rolls them)', () => {
  const hash = (text: string | undefined): string => UnitFile.parse(text as string).hash();
  const kube = renderUnits({ ...RELEASE, kubernetes: 'v1.36.2' });
  const etcd = renderUnits({ ...RELEASE, etcd: '3.6.9-0' });
  for (const [name, text] of units) {
    const isEtcd = name === 'kube-etcd.service';
    assert.equal(hash(kube.get(name)) !== hash(text), !isEtcd, `${name} and a Kubernetes bump`);
    assert.equal(hash(etcd.get(name)) !== hash(text), isEtcd, `${name} and an etcd bump`);
  }
  assert.match(kube.get('kube-apiserver.service') as string, /kube-apiserver:v1\.36\.2 kube-apiserver/);
  assert.match(kube.get('kubelet.service') as string, /\/kubelet:v1\.36\.2 \\/);
  assert.match(etcd.get('kube-etcd.service') as string, /\/etcd:3\.6\.9-0 etcd/);
});

test('placement: the control plane follows the apiserver onto control-plane hosts; kubelet and kube-proxy run on every worker', () => {
  assert.deepEqual(xfleet('kube-apiserver.service'), { MachineMetadata: ['role=control-plane'] });
  for (const name of ['kube-etcd.service', 'kube-controller-manager.service', 'kube-scheduler.service']) {
    assert.deepEqual(xfleet(name), { MachineOf: ['kube-apiserver.service'] }, name);
  }
  for (const name of ['kubelet.service', 'kube-proxy.service']) {
    assert.deepEqual(xfleet(name), { Global: ['true'], MachineMetadata: ['role=worker'] }, name);
  }
});

test('flags are kubeadm’s defaults; the kubelet talks to containerd’s CRI socket', () => {
  const has = (name: string, ...flags: string[]): void => {
    for (const f of flags) assert.ok((units.get(name) as string).includes(` ${f}`), `${name} lacks ${f}`);
  };
  has('kube-apiserver.service', '--authorization-mode=Node,RBAC', '--enable-admission-plugins=NodeRestriction', '--secure-port=6443',
    '--etcd-servers=https://127.0.0.1:2379', '--service-account-issuer=https://kubernetes.default.svc.cluster.local', '--allow-privileged=true');
  has('kube-controller-manager.service', '--bind-address=127.0.0.1', '--leader-elect=true', '--use-service-account-credentials=true',
    '--controllers=*,bootstrapsigner,tokencleaner');
  has('kube-scheduler.service', '--bind-address=127.0.0.1', '--leader-elect=true', '--kubeconfig=/etc/kubernetes/scheduler.conf');
  has('kube-etcd.service', '--client-cert-auth=true', '--snapshot-count=10000', '--listen-metrics-urls=http://127.0.0.1:2381');
  has('kubelet.service', '--container-runtime-endpoint=unix:///run/containerd/containerd.sock', '--privileged', '--pid=host');
  assert.doesNotMatch(units.get('kubelet.service') as string, /docker\.sock/, 'the kubelet cannot use Docker since dockershim went (1.24)');
  has('kube-proxy.service', '--config=/etc/kubernetes/kube-proxy.yaml');
  for (const [name, text] of units) {
    assert.match(text, /^ExecStartPre=-\/usr\/bin\/docker rm -f /m, name);
    assert.match(text, /^ExecStart=\/usr\/bin\/docker run --rm --name /m, name);
    assert.match(text, /^ExecStop=\/usr\/bin\/docker stop /m, name);
  }
});
