/**
 * API conformance against real daemons: a two-host dev cluster, each host's
 * flotillad serving the API on its own socket (pages of 2 via token_limit, so
 * pagination shows with a few units). Every endpoint, status code and error
 * body; the store unreachable (503) last.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { get as httpGet } from 'node:http';
import { mkdtemp, stat } from 'node:fs/promises';
import { LocalCluster } from '../../src/dev/cluster.js';
import { waitFor } from '../../src/util/deadline.js';
import { encodeToken } from '../../src/api/pagination.js';
import { ask, type Answer, type Ask } from './support/http.js';
import { mkdtemp as mkdtempDir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { flotctl } from '../support/flotctl.js';
import { commitAll, git } from '../support/git.js';

let cluster: LocalCluster;
let socket: string;

const SLEEP = [{ section: 'Service', name: 'ExecStart', value: '/bin/sleep infinity' }];
const withDesc = (d: string) => [{ section: 'Unit', name: 'Description', value: d }, ...SLEEP];

const call = (path: string, a: Ask = {}): Promise<Answer> => ask({ socket }, path, a);
const put = (name: string, body: unknown): Promise<Answer> => call(`/fleet/v1/units/${name}`, { method: 'PUT', body });

function expectError(r: Answer, code: number, message: string | RegExp): void {
  assert.equal(r.status, code, r.text);
  assert.equal(r.headers['content-type'], 'application/json');
  const body = r.json as { error: { code: number; message: string } };
  assert.equal(body.error.code, code);
  if (typeof message === 'string') assert.equal(body.error.message, message);
  else assert.match(body.error.message, message);
}

before(async () => {
  cluster = await LocalCluster.start({ dir: await mkdtemp('/tmp/fl-api-'), hosts: 2, ttlSeconds: 5, extraConfig: { token_limit: '2' } });
  socket = cluster.apiSocket(0)!;
});

after(async () => {
  await cluster?.down();
});

describe('/fleet/v1', () => {
  it('each host serves its own socket, mode 0660', async () => {
    for (let i = 0; i < cluster.hosts.length; i++) {
      const st = await stat(cluster.apiSocket(i)!);
      assert.ok(st.isSocket());
      assert.equal(st.mode & 0o777, 0o660);
    }
    assert.notEqual(cluster.apiSocket(0), cluster.apiSocket(1));
  });

  it('machines: both hosts, sorted by id, with metadata; one page', async () => {
    const r = await call('/fleet/v1/machines');
    assert.equal(r.status, 200);
    assert.match(String(r.headers.server), /^flotillad\//);
    const want = [...cluster.hosts].sort((a, b) => (a.machineId < b.machineId ? -1 : 1)).map((h) => ({ id: h.machineId, primaryIP: h.publicIP, metadata: { hostname: h.name } }));
    assert.deepEqual(r.json, { machines: want });
  });

  it('an empty list is {}; unknown paths 404; wrong methods 405 with Allow', async () => {
    assert.deepEqual((await call('/fleet/v1/units')).json, {});
    assert.deepEqual((await call('/fleet/v1/state')).json, {});
    for (const p of ['/', '/fleet/v1', '/fleet/v1/', '/fleet/v1/units/', '/fleet/v1/nothing', '/v1-alpha/units']) expectError(await call(p), 404, `no such resource: ${p}`);
    const cases: Array<[string, string, string, string]> = [
      ['POST', '/fleet/v1/units', 'GET', 'only GET supported against this resource'],
      ['PATCH', '/fleet/v1/units/a.service', 'GET, PUT, DELETE', 'only GET, PUT and DELETE supported against this resource'],
      ['DELETE', '/fleet/v1/state', 'GET', 'only GET supported against this resource'],
      ['PUT', '/fleet/v1/state/a.service', 'GET', 'only GET supported against this resource'],
      ['DELETE', '/fleet/v1/machines', 'GET, PATCH', 'only GET and PATCH supported against this resource'],
      ['POST', '/fleet/v1/discovery', 'GET', 'only GET supported against this resource'],
    ];
    for (const [method, path, allow, message] of cases) {
      const r = await call(path, { method });
      expectError(r, 405, message);
      assert.equal(r.headers.allow, allow, `${method} ${path}`);
    }
  });

  it('discovery: the fleet:v1 document', async () => {
    const r = await call('/fleet/v1/discovery');
    assert.equal(r.status, 200);
    const d = r.json as { id: string; kind: string; resources: Record<string, unknown>; schemas: Record<string, unknown> };
    assert.equal(d.id, 'fleet:v1');
    assert.equal(d.kind, 'discovery#restDescription');
    assert.deepEqual(Object.keys(d.resources).sort(), ['Machines', 'UnitState', 'Units']);
    for (const s of ['Machine', 'MachinePage', 'UnitOption', 'Unit', 'UnitPage', 'UnitState', 'UnitStatePage']) assert.ok(d.schemas[s], s);
  });

  it('PUT creates (201), sets the desired state (204), the unit runs; GET and state show it', async () => {
    const c = await put('api-hello.service', { name: 'api-hello.service', options: withDesc('hello') });
    assert.deepEqual([c.status, c.text], [201, '']);
    const g = await call('/fleet/v1/units/api-hello.service');
    assert.deepEqual(g.json, { name: 'api-hello.service', options: withDesc('hello'), desiredState: 'inactive', currentState: 'inactive' });
    const s = await put('api-hello.service', { desiredState: 'launched' });
    assert.deepEqual([s.status, s.text], [204, '']);
    const running = await waitFor('api-hello.service active', async () => {
      const st = (await call('/fleet/v1/state?unitName=api-hello.service')).json as { states?: Array<Record<string, string>> };
      const one = st.states?.[0];
      return one?.systemdActiveState === 'active' ? one : undefined;
    }, { timeoutMs: 20_000 });
    assert.deepEqual(Object.keys(running).sort(), ['hash', 'machineID', 'name', 'systemdActiveState', 'systemdLoadState', 'systemdSubState']);
    assert.deepEqual([running.systemdLoadState, running.systemdSubState], ['loaded', 'running']);
    const u = (await call('/fleet/v1/units/api-hello.service')).json as Record<string, unknown>;
    assert.equal(u.currentState, 'launched');
    assert.equal(u.machineID, running.machineID);
    assert.deepEqual((await call('/fleet/v1/state/api-hello.service')).json, running);
    // machineID filters; another machine has none of it.
    const other = cluster.hosts.find((h) => h.machineId !== running.machineID)!.machineId;
    assert.deepEqual((await call(`/fleet/v1/state?machineID=${other}&unitName=api-hello.service`)).json, {});
    assert.equal(((await call(`/fleet/v1/state?machineID=${running.machineID}`)).json as { states: unknown[] }).states.length, 1);
    // Same options again: nothing to create, so a desired state is required (fleet's 409).
    expectError(await put('api-hello.service', { options: withDesc('hello') }), 409, 'must provide DesiredState to update existing unit');
    // Different options replace the unit (fleet's rule), desired state back to inactive unless given.
    assert.equal((await put('api-hello.service', { options: withDesc('hello again'), desiredState: 'loaded' })).status, 201);
    assert.equal(((await call('/fleet/v1/units/api-hello.service')).json as Record<string, unknown>).desiredState, 'loaded');
  });

  it('units and states page by token_limit with nextPageToken', async () => {
    for (const n of ['api-p1.service', 'api-p2.service', 'api-p3.service']) assert.equal((await put(n, { options: SLEEP })).status, 201);
    const p1 = (await call('/fleet/v1/units')).json as { units: Array<{ name: string }>; nextPageToken: string };
    assert.deepEqual(p1.units.map((u) => u.name), ['api-hello.service', 'api-p1.service']);
    assert.equal(p1.nextPageToken, encodeToken({ limit: 2, page: 2 }));
    const p2 = (await call(`/fleet/v1/units?nextPageToken=${p1.nextPageToken}`)).json as { units: Array<{ name: string }>; nextPageToken: string };
    assert.deepEqual(p2.units.map((u) => u.name), ['api-p2.service', 'api-p3.service']);
    assert.equal(p2.nextPageToken, undefined);
    expectError(await call(`/fleet/v1/units?nextPageToken=${encodeToken({ limit: 100, page: 2 })}`), 400, /^token limit must be 2/);
    expectError(await call(`/fleet/v1/units?nextPageToken=${encodeToken({ limit: 2, page: 0 })}`), 400, 'token page must be greater than zero');
    expectError(await call('/fleet/v1/machines?nextPageToken=a&nextPageToken=b'), 400, /^too many values for page token/);
    expectError(await call('/fleet/v1/state?nextPageToken=%%%'), 400, /^invalid nextPageToken/);
  });

  it('PUT refusals: one status and one line each, nothing written', async () => {
    const raw = (text: string, type?: string): Promise<Answer> =>
      call('/fleet/v1/units/api-bad.service', { method: 'PUT', raw: text, ...(type ? { headers: { 'Content-Type': type } } : {}) });
    expectError(await raw('{}'), 415, /^expected 1 Content-Type header, got 0/);
    expectError(await raw('{}', 'text/plain'), 415, /^Content-Type "text\/plain" is not accepted/);
    expectError(await raw('{"name":', 'application/json'), 400, /^unable to decode body: /);
    expectError(await raw('x'.repeat(1024 * 1024 + 1), 'application/json'), 413, /^request body exceeds 1024 KiB/);
    expectError(await put('api-bad.service', { options: SLEEP, colour: 'red' }), 400, /^unknown field "colour" in the unit/);
    expectError(await put('api-bad.service', { options: 'ExecStart=/bin/true' }), 400, /^unit\.options must be an array/);
    expectError(await put('api-bad.service', { name: 'other.service', options: SLEEP }), 400, 'name in URL "api-bad.service" differs from unit name in request body "other.service"');
    expectError(await put('api-bad.service', { desiredState: 'launched' }), 409, 'unit does not exist and options field empty');
    expectError(await put('api-bad.service', { options: SLEEP, desiredState: 'running' }), 400, 'invalid desiredState "running": use one of inactive, loaded, launched');
    expectError(await put('api-hello.service', { desiredState: 'bogus' }), 400, /^invalid desiredState "bogus"/);
    expectError(await put('api-web@.service', { options: SLEEP, desiredState: 'launched' }), 400, 'cannot activate template "api-web@.service"');
    expectError(await put('no-suffix', { options: SLEEP }), 400, /^invalid unit name "no-suffix"/);
    expectError(await put('api-bad.service', { options: [...SLEEP, { section: 'X-Fleet', name: 'Global', value: 'true' }, { section: 'X-Fleet', name: 'MachineID', value: 'abc' }] }), 400, /Global/);
    expectError(await call('/fleet/v1/units/%zz', { method: 'PUT', body: { options: SLEEP } }), 400, /invalid percent-escape/);
    expectError(await call('/fleet/v1/units/api-bad.service'), 404, 'unit does not exist');
    expectError(await call('/fleet/v1/units/api-web@.service'), 404, 'unit does not exist');
    // A template may be created inactive.
    assert.equal((await put('api-web@.service', { options: SLEEP })).status, 201);
  });

  it('DELETE: 204, then 404', async () => {
    const d = await call('/fleet/v1/units/api-p3.service', { method: 'DELETE' });
    assert.deepEqual([d.status, d.text], [204, '']);
    expectError(await call('/fleet/v1/units/api-p3.service', { method: 'DELETE' }), 404, 'unit does not exist');
    expectError(await call('/fleet/v1/units/api-p3.service'), 404, 'unit does not exist');
    expectError(await call('/fleet/v1/state/api-p3.service'), 404, 'unit state does not exist');
  });

  it("PATCH /machines: fleet's value object and the documented string; remove; refusals", async () => {
    const [a, b] = cluster.hosts.map((h) => h.machineId);
    const ops = [
      { op: 'add', path: `/${a}/metadata/disk`, value: { value: 'ssd' } },
      { op: 'replace', path: `/${b}/metadata/rack`, Value: 'r7' },
      { op: 'add', path: `/${a}/metadata/tmp`, value: 'x' },
      { op: 'remove', path: `/${a}/metadata/tmp` },
    ];
    const r = await call('/fleet/v1/machines', { method: 'PATCH', body: ops });
    assert.deepEqual([r.status, r.text], [204, '']);
    const ms = ((await call('/fleet/v1/machines')).json as { machines: Array<{ id: string; metadata: Record<string, string> }> }).machines;
    const meta = new Map(ms.map((m) => [m.id, m.metadata]));
    assert.deepEqual(meta.get(a!), { hostname: cluster.hosts[0]!.name, disk: 'ssd' });
    assert.deepEqual(meta.get(b!), { hostname: cluster.hosts[1]!.name, rack: 'r7' });
    const patch = (body: unknown): Promise<Answer> => call('/fleet/v1/machines', { method: 'PATCH', body });
    expectError(await patch([{ op: 'add', path: `/${a}/metadata/ok`, value: 'v' }, { op: 'copy', path: `/${a}/metadata/k` }]), 400, 'operation 1: invalid op "copy": expect add, remove, or replace');
    expectError(await patch([{ op: 'add', path: `/${a}/labels/k`, value: 'v' }]), 400, /^operation 0: machine metadata path .* invalid/);
    expectError(await patch([{ op: 'add', path: `/${a}/metadata/k` }]), 400, 'operation 0: invalid value: add and replace require a value');
    expectError(await patch({ op: 'add' }), 400, /must be a JSON array/);
    expectError(await call('/fleet/v1/machines', { method: 'PATCH', raw: '[]' }), 415, /Content-Type/);
    // The refused first operation of a body wrote nothing.
    const after = ((await call('/fleet/v1/machines')).json as { machines: Array<{ id: string; metadata: Record<string, string> }> }).machines;
    assert.ok(!after.some((m) => 'ok' in m.metadata));
  });
});

describe('/flotilla/v1', () => {
  it('the daemon serves /metrics and the event stream on its socket', async () => {
    const m = await call('/metrics');
    assert.equal(m.status, 200);
    assert.match(m.text, /^flotilla_lease_renewals_total \d+/m);
    assert.match(m.text, /^process_cpu_user_seconds_total /m);
    // The stream never ends by itself: read its first line (the start index), then hang up.
    const first = await new Promise<string>((resolve, reject) => {
      const req = httpGet({ socketPath: socket, path: '/flotilla/v1/events' }, (res) => {
        let text = '';
        res.on('data', (b: Buffer) => {
          text += b.toString();
          const nl = text.indexOf('\n');
          if (nl >= 0) {
            resolve(`${res.statusCode} ${text.slice(0, nl)}`);
            req.destroy();
          }
        });
      });
      req.on('error', reject);
    });
    assert.match(first, /^200 \{"Index":\d+\}$/);
  });

  it('info names the API', async () => {
    const r = await call('/flotilla/v1/info');
    assert.equal(r.status, 200);
    assert.equal((r.json as { api: string }).api, 'flotilla');
  });

  it('machines carry ssh port, scope and state', async () => {
    const ms = ((await call('/flotilla/v1/machines')).json as { machines: Array<Record<string, unknown>> }).machines;
    assert.equal(ms.length, 2);
    for (const m of ms) {
      const h = cluster.hosts.find((x) => x.machineId === m.id)!;
      assert.deepEqual([m.publicIP, m.sshPort, m.systemdScope, m.state], [h.publicIP, h.sshPort ?? 22, 'user', 'up']);
    }
  });

  it('units carry why a unit is not placed; states and files', async () => {
    const nowhere = [...SLEEP, { section: 'X-Fleet', name: 'MachineMetadata', value: 'role=nothere' }];
    assert.equal((await call('/flotilla/v1/units/api-nowhere.service', { method: 'PUT', body: { options: nowhere, desiredState: 'launched' } })).status, 201);
    const u = await waitFor('api-nowhere.service unplaced', async () => {
      const r = (await call('/flotilla/v1/units/api-nowhere.service')).json as { unplaced?: { reasons: Record<string, string> } };
      return r.unplaced ? r : undefined;
    }, { timeoutMs: 20_000 });
    assert.deepEqual(Object.keys(u.unplaced!.reasons).sort(), cluster.hosts.map((h) => h.machineId).sort());
    for (const why of Object.values(u.unplaced!.reasons)) assert.match(why, /role=nothere/);
    const list = ((await call('/flotilla/v1/units')).json as { units: Array<{ name: string; unplaced?: unknown }> }).units;
    assert.ok(list.find((x) => x.name === 'api-nowhere.service')?.unplaced);
    const file = (await call('/flotilla/v1/units/api-nowhere.service/file')).json as { options: unknown };
    assert.deepEqual(file.options, nowhere);
    const states = ((await call('/flotilla/v1/states?unit=api-hello.service')).json as { states: Array<{ name: string }> }).states;
    assert.ok(states.every((s) => s.name === 'api-hello.service'));
    const p = await call('/flotilla/v1/units/api-nowhere.service', { method: 'PATCH', body: { desiredState: 'inactive' } });
    assert.equal(p.status, 204);
    expectError(await call('/flotilla/v1/units/api-none.service', { method: 'PATCH', body: { desiredState: 'inactive' } }), 404, 'unit does not exist');
    expectError(await call('/flotilla/v1/units/api-x.service', { method: 'PUT', body: { desiredState: 'loaded' } }), 400, /^options is missing/);
  });

  it('PATCH machines/:id: relative paths, a prefix of the id, the result', async () => {
    const id = cluster.hosts[0]!.machineId;
    const r = await call(`/flotilla/v1/machines/${id.slice(0, 8)}`, { method: 'PATCH', body: [{ op: 'add', path: '/metadata/zone', value: 'z1' }] });
    assert.deepEqual([r.status, r.json], [200, { machineId: id, registered: true }]);
    expectError(await call('/flotilla/v1/machines/zz', { method: 'PATCH', body: [{ op: 'add', path: '/metadata/zone', value: 'z1' }] }), 400, /^invalid machine "zz"/);
  });
});

describe('flotctl --driver api', () => {
  const etcdEnv = (): Record<string, string> => cluster.flotctlEnv();
  const apiEnv = (): Record<string, string> => ({ ...cluster.flotctlEnv(), FLOTCTL_DRIVER: 'api', FLOTCTL_ENDPOINT: `unix://${socket}` });
  /** The same command through both drivers: same exit code, same output. */
  const same = async (args: string[], cwd?: string): Promise<string> => {
    const [e, a] = await Promise.all([flotctl(etcdEnv(), args, cwd ? { cwd } : {}), flotctl(apiEnv(), args, cwd ? { cwd } : {})]);
    assert.deepEqual([a.code, a.stdout, a.stderr], [e.code, e.stdout, e.stderr], args.join(' '));
    return a.stdout;
  };

  it('reads give what the etcd driver gives', async () => {
    for (const args of [['list-units'], ['list-units', '-l', '--fields', 'unit,load,active,sub,machine,dstate,tmachine,state,hash,desc'], ['list-machines', '-l'], ['--json', 'list-machines'], ['list-unit-files', '-l'], ['cat', 'api-hello.service'], ['--json', 'list-units'], ['why', 'api-nowhere.service']]) {
      await same(args);
    }
    assert.match(await same(['list-machines', '--no-legend']), /hostname=/);
  });

  it('writes: submit, start, stop, destroy, set-metadata through the API', async () => {
    const work = await mkdtempDir('/tmp/fl-api-units-');
    await writeFile(join(work, 'api-drv.service'), '[Service]\nExecStart=/bin/sleep infinity\n');
    const api = (args: string[]) => flotctl(apiEnv(), args, { cwd: work });
    const start = await api(['start', 'api-drv.service']);
    assert.equal(start.code, 0, start.stderr);
    assert.match(start.stdout, /^Unit api-drv\.service launched on [0-9a-f]{8}\.\.\.\/127\./m);
    await same(['list-units', '--fields', 'unit,dstate,active,machine']);
    const stop = await api(['stop', 'api-drv.service']);
    assert.equal(stop.code, 0, stop.stderr);
    assert.match(stop.stdout, /^Unit api-drv\.service loaded on [0-9a-f]{8}\.\.\./m);
    const destroy = await api(['destroy', 'api-drv.service']);
    assert.deepEqual([destroy.code, destroy.stdout], [0, 'Destroyed api-drv.service\n']);
    const meta = await api(['set-metadata', cluster.hosts[1]!.machineId.slice(0, 6), 'tier=gold']);
    assert.equal(meta.code, 0, meta.stderr);
    assert.match(await same(['list-machines', '--no-legend']), /tier=gold/);
    const bad = await api(['set-metadata', cluster.hosts[1]!.machineId, 'a b=c']);
    assert.deepEqual([bad.code, bad.stderr], [1, 'invalid metadata key "a b": use only letters, digits, "_", "." and "-"\n']);
  });

  it('an endpoint that is etcd, not flotillad: one line naming --driver etcd', async () => {
    const r = await flotctl({ ...apiEnv(), FLOTCTL_ENDPOINT: cluster.endpoints[0]! }, ['list-units']);
    assert.equal(r.code, 1);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, /is not a Flotilla API .*--driver etcd/);
    const none = await flotctl({ ...apiEnv(), FLOTCTL_ENDPOINT: `unix://${socket}.none` }, ['list-units']);
    assert.equal(none.code, 3);
    assert.match(none.stderr, /flotillad API unreachable at unix:\/\/.*\.none: no socket/);
  });
});

describe('/flotilla/v1 sources: diff, sync, source add/remove', () => {
  const etcdEnv = (): Record<string, string> => cluster.flotctlEnv();
  const apiEnv = (): Record<string, string> => ({ ...cluster.flotctlEnv(), FLOTCTL_DRIVER: 'api', FLOTCTL_ENDPOINT: `unix://${socket}` });
  const both = async (args: string[]): Promise<{ code: number; stdout: string }> => {
    const [e, a] = await Promise.all([flotctl(etcdEnv(), args), flotctl(apiEnv(), args)]);
    assert.deepEqual([a.code, a.stdout, a.stderr], [e.code, e.stdout, e.stderr], args.join(' '));
    return a;
  };
  const UNITS = 120;
  let dir: string;

  before(async () => {
    dir = await mkdtempDir('/tmp/fl-api-src-');
    git(dir, 'init', '-q', '-b', 'main');
    // Inactive (flotilla.ini): stored, not placed, so 120 units cost the hosts nothing.
    const desired: string[] = ['[desired]'];
    for (let i = 0; i < UNITS; i++) {
      await writeFile(join(dir, `src-${String(i).padStart(3, '0')}.service`), `[Unit]\nDescription=unit ${i} ${'x'.repeat(2000)}\n\n[Service]\nExecStart=/bin/sleep infinity\n`);
      desired.push(`src-${String(i).padStart(3, '0')}.service = inactive`);
    }
    await writeFile(join(dir, 'flotilla.ini'), desired.join('\n') + '\n');
    commitAll(dir, 'units');
  });

  it(`diff is the same through both drivers; sync of ${UNITS} units through the API; provenance, sources and diff agree after`, async () => {
    const before = await both(['diff', '--source', 'api-src', dir]);
    assert.equal(before.code, 1);
    assert.match(before.stdout, /src-119\.service/);
    const s = await flotctl(apiEnv(), ['sync', '--no-block', '--source', 'api-src', dir]);
    assert.equal(s.code, 0, s.stderr);
    assert.match(s.stdout, new RegExp(`Synced source api-src at [0-9a-f]{12}: ${UNITS} changed, 0 unchanged`));
    const after = await both(['diff', '--source', 'api-src', dir]);
    assert.equal(after.code, 0);
    const files = await both(['list-unit-files', '--no-legend', '--fields', 'unit,source']);
    assert.equal(files.stdout.split('\n').filter((l) => /^src-\d+\.service\s+api-src$/.test(l)).length, UNITS);
    assert.match((await both(['sources', '--no-legend'])).stdout, new RegExp(`^api-src\\s+push\\s+${UNITS}\\s`, 'm'));
    // Another directory under the same name: the daemon's checkDefinition refuses it, same line as the etcd driver.
    const other = await mkdtempDir('/tmp/fl-api-src2-');
    await writeFile(join(other, 'x.service'), '[Service]\nExecStart=/bin/true\n');
    const e = await flotctl(etcdEnv(), ['diff', '--source', 'api-src', other]);
    const a = await flotctl(apiEnv(), ['diff', '--source', 'api-src', other]);
    assert.deepEqual([a.code, a.stderr], [e.code, e.stderr]);
    assert.match(a.stderr, /^source api-src is synced from /);
    const rm = await flotctl(apiEnv(), ['source', 'remove', '--prune', '--no-block', 'api-src']);
    assert.equal(rm.code, 0, rm.stderr);
    assert.equal(rm.stdout.split('\n').at(-2), `Removed source api-src and destroyed its ${UNITS} units`);
    const gone = await both(['source', 'remove', 'api-src']);
    assert.equal(gone.code, 1);
  });

  it('source add and remove; a taken name is 412, one line, exit 1 through flotctl', async () => {
    const add = { name: 'api-pull', url: 'https://example.com/acme/infra.git', prune: false };
    const r = await call('/flotilla/v1/sources', { method: 'POST', body: add });
    assert.equal(r.status, 201, r.text);
    assert.equal((r.json as { mode: string }).mode, 'pull');
    expectError(await call('/flotilla/v1/sources', { method: 'POST', body: add }), 412, /^source api-pull exists \(following https:\/\/example\.com\/acme\/infra\.git\)/);
    const again = await flotctl(apiEnv(), ['source', 'add', 'api-pull', 'https://example.com/acme/infra.git']);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /^source api-pull exists/);
    const list = (await call('/flotilla/v1/sources')).json as { sources: Array<{ name: string }> };
    assert.ok(list.sources.some((s) => s.name === 'api-pull'));
    expectError(await call('/flotilla/v1/sources/api-pull/rollout'), 404, 'no rollout record for this source');
    assert.deepEqual((await call(`/flotilla/v1/sources/${encodeURIComponent('api-pull')}`, { method: 'DELETE' })).json, { destroyed: [], released: 0 });
    expectError(await call('/flotilla/v1/sources/api-pull', { method: 'DELETE' }), 412, 'no source api-pull: see flotctl sources');
    expectError(await call('/flotilla/v1/sources/api-pull?prune=yes', { method: 'DELETE' }), 400, 'prune must be true or false');
    expectError(await call('/flotilla/v1/sources', { method: 'POST', body: { ...add, url: 'https://u:pw@example.com/x.git' } }), 400, /credentials do not belong/);
    expectError(await call('/flotilla/v1/sources', { method: 'POST', body: { ...add, extra: 1 } }), 400, /^unknown field "extra" in body/);
  });

  it('sync and diff bodies are checked strictly: shape, kinds, tree rules, rollout pacing, content type', async () => {
    const origin = { dir: '/tmp/x', git: false, repository: '/tmp/x', path: '', defaultName: 'tmp-x', commit: '', dirty: true, changed: [] };
    const manifest = { origin, entries: [{ name: 'a.service', kind: 'file', text: '[Service]\nExecStart=/bin/true\n' }], prune: false, allowEmpty: false, adopt: false, source: 'api-bad' };
    const rollout = { maxParallel: 1, minHealthyMs: 0, healthyDeadlineMs: 1000, autoRevert: false };
    const post = (path: string, body: unknown): Promise<Answer> => call(path, { method: 'POST', body });
    expectError(await post('/flotilla/v1/sync', { manifest }), 400, 'body.rollout is missing');
    expectError(await post('/flotilla/v1/sync', { manifest, rollout: { ...rollout, maxParallel: 0 } }), 400, 'rollout.maxParallel must be an integer from 1 to 10000');
    expectError(await post('/flotilla/v1/diff', { manifest: { ...manifest, entries: [{ name: 'a.service', kind: 'socket' }] } }), 400, 'manifest.entries[0].kind must be one of file, symlink, dir, other');
    expectError(await post('/flotilla/v1/diff', { manifest: { ...manifest, plans: [] } }), 400, /^unknown field "plans" in manifest/);
    // Every bad entry, one line each, as flotctl prints a tree it refuses itself.
    const twoBad = [{ name: 'c@1.service', kind: 'symlink', target: '../elsewhere' }, { name: 'd.service', kind: 'file', text: '[Service]\nno equals\n' }];
    expectError(await post('/flotilla/v1/diff', { manifest: { ...manifest, entries: twoBad } }), 400, /^\/tmp\/x\/c@1\.service: [^\n]+\n\/tmp\/x\/d\.service: unit file line 2[^\n]*$/);
    expectError(await post('/flotilla/v1/diff', { manifest: { ...manifest, source: 'bad name!' } }), 400, /^invalid source name "bad name!"/);
    expectError(await call('/flotilla/v1/diff', { method: 'POST', raw: '{}', headers: { 'Content-Type': 'text/plain' } }), 415, /^Content-Type "text\/plain" is not accepted/);
    const d = await post('/flotilla/v1/diff', { manifest });
    assert.equal(d.status, 200, d.text);
    assert.deepEqual((d.json as { changes: Array<{ unit: string; action: string }> }).changes.map((c) => [c.unit, c.action]), [['a.service', 'create']]);
  });
});

describe('store unreachable', () => {
  it('503 with the error body while etcd is down, answers again when it is back', async () => {
    await cluster.killEtcd();
    const r = await call('/fleet/v1/units');
    expectError(r, 503, /^cluster store unreachable/);
    assert.equal(r.headers['retry-after'], '1');
    await cluster.restartEtcd();
    await waitFor('the API to answer again', async () => ((await call('/fleet/v1/machines')).status === 200 ? true : undefined), { timeoutMs: 30_000, intervalMs: 200 });
  });
});
