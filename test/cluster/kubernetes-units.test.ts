/**
 * The whole units/kubernetes/ set placed on a 4-host cluster (one host with
 * role=control-plane metadata, three role=worker), each host with its own
 * Docker engine and every image repository pointed (through the hosts'
 * kubernetes/images.env) at the cluster's loopback registry, which does not
 * have them: the control plane lands together on the control-plane host,
 * kubelet and kube-proxy on every worker, and each host's own systemd tried
 * to start each of its units and saw the image pull fail.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LocalCluster } from '../../src/dev/cluster.js';
import { RELEASE } from '../../src/kubernetes/release.js';
import { renderUnits } from '../../src/kubernetes/render.js';
import { waitFor } from '../../src/util/deadline.js';
import { flotctl, rows } from '../support/flotctl.js';
import { hostUnit } from '../support/hosts.js';

const repo = fileURLToPath(new URL('../../../', import.meta.url));
const CONTROL_PLANE = ['kube-etcd.service', 'kube-apiserver.service', 'kube-controller-manager.service', 'kube-scheduler.service'];
const WORKER = ['kubelet.service', 'kube-proxy.service'];
let cluster: LocalCluster;
let env: Record<string, string>;

before(async () => {
  cluster = await LocalCluster.start({
    dir: await mkdtemp('/tmp/fl-kube-'),
    hosts: 4,
    ttlSeconds: 3,
    docker: true,
    metadata: [{ role: 'control-plane' }, { role: 'worker' }, { role: 'worker' }, { role: 'worker' }],
  });
  env = cluster.flotctlEnv();
  // What an operator with a mirror writes to /etc/kubernetes/images.env (%E is XDG_CONFIG_HOME here).
  for (const h of cluster.hosts) {
    await mkdir(join(h.configDir, 'kubernetes'), { recursive: true });
    await writeFile(join(h.configDir, 'kubernetes', 'images.env'), `KUBE_IMAGE_REPOSITORY=${cluster.registry}/k8s\nKUBELET_IMAGE_REPOSITORY=${cluster.registry}/poseidon\n`);
  }
  const units = [...renderUnits(RELEASE).keys()].map((u) => `units/kubernetes/${u}`);
  const r = await flotctl(env, ['start', '--no-block', ...units], { cwd: repo });
  assert.equal(r.code, 0, r.stderr);
});

after(async () => {
  await cluster?.down();
});

/** Host i's systemd started `unit` and its start failed (then Restart=always schedules the next try). */
async function triedAndFailed(host: number, unit: string): Promise<void> {
  await waitFor(`${unit} tried and failed on host ${host + 1}`, async () => {
    const r = await cluster.systemctl(host, ['show', '-p', 'LoadState,ActiveState,SubState,Result', unit]);
    const p = Object.fromEntries(r.stdout.trim().split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
    if (p.LoadState !== 'loaded' || p.Result !== 'exit-code') return undefined;
    return (p.ActiveState === 'activating' && p.SubState === 'auto-restart') || p.ActiveState === 'failed' ? true : undefined;
  }, { timeoutMs: 60_000, intervalMs: 200 });
}

test('the control plane is placed together on the control-plane host, and only there', async () => {
  for (const unit of CONTROL_PLANE) await triedAndFailed(0, unit);
  for (const worker of [1, 2, 3]) {
    for (const unit of CONTROL_PLANE) assert.equal((await hostUnit(cluster, worker, unit)).load, 'not-found', `${unit} on worker host ${worker + 1}`);
  }
});

test('kubelet and kube-proxy run on every worker and not on the control-plane host', async () => {
  for (const worker of [1, 2, 3]) for (const unit of WORKER) await triedAndFailed(worker, unit);
  for (const unit of WORKER) assert.equal((await hostUnit(cluster, 0, unit)).load, 'not-found', `${unit} on the control-plane host`);
});

test('what failed is the image pull from the loopback registry, on each host', async () => {
  const pulls: Array<[number, string, string]> = [
    ...CONTROL_PLANE.map((u): [number, string, string] => [0, u, u === 'kube-etcd.service' ? `etcd:${RELEASE.etcd}` : `${u.replace('.service', '')}:${RELEASE.kubernetes}`]),
    ...[1, 2, 3].flatMap((h) => WORKER.map((u): [number, string, string] => [h, u, `${u.replace('.service', '')}:${RELEASE.kubernetes}`])),
  ];
  for (const [host, unit, image] of pulls) {
    await waitFor(`the failed pull of ${image} in ${unit}'s status on host ${host + 1}`, async () => {
      const r = await cluster.systemctl(host, ['status', '--no-pager', '--lines=0', unit]);
      const line = r.stdout.split('\n').find((l) => l.includes('ExecStartPre=/usr/bin/docker pull'));
      return line && line.includes(`/${image} (code=exited, status=1/FAILURE)`) ? true : undefined;
    }, { timeoutMs: 30_000, intervalMs: 200 });
  }
  // The engines were asked, and have nothing: no image came from anywhere else.
  for (const h of cluster.hosts) {
    const r = await cluster.systemctl(h.index, ['show', '-p', 'ActiveState', '--value', 'docker.service']);
    assert.equal(r.stdout.trim(), 'active');
  }
});

test('list-units shows each unit on the host where it was placed, not active', async () => {
  const byMachine = new Map(cluster.hosts.map((h) => [h.machineId.slice(0, 8), h.index]));
  await waitFor('list-units to show every unit placed and failing', async () => {
    const r = await flotctl(env, ['list-units', '--no-legend', '--full']);
    if (r.code !== 0) return undefined;
    const seen = new Map(rows(r.stdout).map(([unit = '', machine = '', active = '']) => [unit, { host: byMachine.get(machine.slice(0, 8)), active }]));
    for (const unit of CONTROL_PLANE) if (seen.get(unit)?.host !== 0 || seen.get(unit)?.active === 'active') return undefined;
    return true;
  }, { timeoutMs: 30_000, intervalMs: 500 });
  const r = await flotctl(env, ['list-units', '--no-legend', '--full']);
  const lines = rows(r.stdout);
  for (const unit of WORKER) {
    const hosts = lines.filter(([u]) => u === unit).map(([, machine = '']) => byMachine.get(machine.slice(0, 8))).sort();
    assert.deepEqual(hosts, [1, 2, 3], `${unit}: ${r.stdout}`);
  }
});

test('list-units reports each unit\'s failure as the image pull that failed', async () => {
  const expected = new Map([...CONTROL_PLANE, ...WORKER].map((u) => [u, u === 'kube-etcd.service' ? `etcd:${RELEASE.etcd}` : `${u.replace('.service', '')}:${RELEASE.kubernetes}`]));
  let last = '';
  await waitFor('every unit\'s failure reason to name its failed docker pull', async () => {
    const r = await flotctl(env, ['list-units', '--no-legend', '--full', '--fields', 'unit,active,failure']);
    last = r.stdout;
    if (r.code !== 0) return undefined;
    const byUnit = rows(r.stdout);
    for (const [unit, image] of expected) {
      const mine = byUnit.filter(([u]) => u === unit);
      if (mine.length === 0) return undefined;
      for (const [, active = '', ...failure] of mine) {
        const reason = failure.join(' ');
        if (active !== 'failed' || !reason.includes('ExecStartPre=/usr/bin/docker pull') || !reason.includes(`/${image} exited with status 1`)) return undefined;
      }
    }
    return true;
  }, { timeoutMs: 60_000, intervalMs: 500 }).catch((err: unknown) => {
    throw new Error(`${err instanceof Error ? err.message : String(err)}\nlast list-units:\n${last}`);
  });
});
