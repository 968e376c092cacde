/**
 * list-units and list-machines without commander (list-request.ts,
 * list-fast.ts) print exactly what the full CLI prints, against a real
 * two-host dev cluster: for every form the fast path takes, the flotctl
 * process (fast path) and runCli in this process (commander's parse of the
 * same words) give the same exit code, stdout and stderr, through the API
 * driver (the default) and the etcd driver, for successes and failures.
 * Forms the fast path leaves alone still run, through the full CLI. The
 * bundled flotctl users run (its CommonJS entry, main-cjs.ts) prints the same.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { listRequest } from '../../src/cli/list-request.js';
import { Output, textStream } from '../../src/cli/output.js';
import { runCli } from '../../src/cli/program.js';
import { LocalCluster } from '../../src/dev/cluster.js';
import { waitFor } from '../../src/util/deadline.js';
import { flotctl } from '../support/flotctl.js';
import { runFile } from './support/run.js';

let cluster: LocalCluster;
let etcdEnv: Record<string, string>;
let apiEnv: Record<string, string>;
let socket: string;
let work: string;


/** The full CLI (commander) on the same words and environment, in this process. */
async function fullCli(env: Record<string, string>, argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = textStream();
  const stderr = textStream();
  const output = new Output({ stdout, stderr, env: { ...env, NO_COLOR: '1' } });
  const code = await runCli(argv, { ...env, NO_COLOR: '1' }, output);
  await output.flush();
  return { code, stdout: stdout.text, stderr: stderr.text };
}

/** What users run (package.json bin): the CommonJS bundle, which runs the API driver's forms itself. */
const BUNDLED = fileURLToPath(new URL('../../bin/flotctl.js', import.meta.url));

async function sameAsFullCli(env: Record<string, string>, argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  assert.ok(listRequest(argv), `${argv.join(' ')} is a fast-path form`);
  const fast = await flotctl(env, argv);
  const full = await fullCli(env, argv);
  assert.deepEqual(fast, full, argv.join(' '));
  const bundled = await runFile(BUNDLED, argv, { ...env, NO_COLOR: '1' });
  assert.deepEqual(bundled, full, `bundled: ${argv.join(' ')}`);
  return fast;
}

before(async () => {
  cluster = await LocalCluster.start({ dir: await mkdtemp('/tmp/fl-lfast-'), hosts: 2, ttlSeconds: 5 });
  etcdEnv = { ...cluster.flotctlEnv(), FLOTCTL_DRIVER: 'etcd' };
  socket = cluster.apiSocket(0) as string;
  // The environment an operator on a host has: no FLOTCTL_* but the endpoint (here: the dev host's socket).
  apiEnv = { FLOTCTL_ENDPOINT: `unix://${socket}` };
  work = await mkdtemp('/tmp/fl-lfast-units-');
  for (const name of ['one.service', 'two.service', 'three.service']) await writeFile(join(work, name), '[Service]\nExecStart=/bin/sleep infinity\n');
  const r = await flotctl(etcdEnv, ['start', 'one.service', 'two.service', 'three.service'], { cwd: work });
  assert.equal(r.code, 0, r.stderr);
  await waitFor('three units running', async () => {
    const out = (await flotctl(etcdEnv, ['list-units', '--no-legend'])).stdout;
    return out.split('\n').filter((l) => /\srunning$/.test(l)).length === 3 ? true : undefined;
  }, { timeoutMs: 30_000, intervalMs: 250 });
});

after(async () => {
  await cluster?.down();
  if (work) await rm(work, { recursive: true, force: true });
});

const UNITS_FORMS: string[][] = [
  ['list-units'],
  ['list-units', '--no-legend'],
  ['list-units', '-l'],
  ['list-units', '--full'],
  ['list-units', '--l'],
  ['list-units', '--fields', 'unit,load,active,sub,machine,hash,failure'],
  ['list-units', '--fields=hash,unit', '--full', '--no-legend'],
  ['--json', 'list-units'],
  ['--json', 'list-units', '--fields', 'unit,hash'],
];
const MACHINES_FORMS: string[][] = [
  ['list-machines'],
  ['list-machines', '--no-legend'],
  ['list-machines', '-l'],
  ['list-machines', '--fields', 'machine,ip,metadata,version', '--full'],
  ['--json', 'list-machines'],
];

test('through the API driver, every form prints what the full CLI prints', async () => {
  for (const argv of [...UNITS_FORMS, ...MACHINES_FORMS]) {
    const r = await sameAsFullCli(apiEnv, argv);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '');
  }
  // What was compared is the cluster's: three units on two machines.
  const units = await sameAsFullCli(apiEnv, ['list-units', '--no-legend', '--fields', 'unit']);
  assert.equal(units.stdout, 'one.service\nthree.service\ntwo.service\n');
  assert.equal((await sameAsFullCli(apiEnv, ['list-machines', '--no-legend'])).stdout.split('\n').filter(Boolean).length, 2);
});

test('global flags on the command line, and the etcd driver, print what the full CLI prints', async () => {
  const endpoint = `unix://${socket}`;
  for (const argv of [['--endpoint', endpoint, 'list-units'], [`--endpoint=${endpoint}`, '--json', 'list-machines', '-l'], ['--driver', 'api', '--endpoint', endpoint, 'list-units', '--no-legend']]) {
    const r = await sameAsFullCli({}, argv);
    assert.equal(r.code, 0, r.stderr);
  }
  const viaEtcd = await sameAsFullCli(etcdEnv, ['list-units']);
  assert.equal(viaEtcd.code, 0, viaEtcd.stderr);
  // Both drivers show the same cluster.
  assert.equal(viaEtcd.stdout, (await flotctl(apiEnv, ['list-units'])).stdout);
  const debug = await sameAsFullCli(apiEnv, ['--debug', 'list-machines']);
  assert.match(debug.stderr, /^DEBUG using flotillad's API at unix:\/\//);
});

test('failures are reported as the full CLI reports them: same line, same exit code', async () => {
  const cases: Array<[Record<string, string>, string[], number]> = [
    [apiEnv, ['list-units', '--fields', 'unit,nope'], 1],
    [apiEnv, ['list-machines', '--fields='], 1],
    [apiEnv, ['--driver', 'nope', 'list-units'], 2],
    [apiEnv, ['--request-timeout', '0', 'list-units'], 2],
    [{ FLOTCTL_ENDPOINT: 'unix:///tmp/fl-lfast-nothing.sock' }, ['list-units'], 3],
    [{}, ['--endpoint', 'unix:///tmp/fl-lfast-nothing.sock', '--debug', 'list-machines'], 3],
    [{ FLOTCTL_ENDPOINT: 'unix://relative.sock' }, ['list-units'], 2],
  ];
  for (const [env, argv, code] of cases) {
    const r = await sameAsFullCli(env, argv);
    assert.equal(r.code, code, `${argv.join(' ')}: ${r.stderr}`);
    assert.equal(r.stdout, '');
    assert.notEqual(r.stderr, '');
  }
});

test('forms the fast path leaves to the full CLI still run there', async () => {
  const table = (await flotctl(apiEnv, ['list-machines'])).stdout;
  assert.equal(listRequest(['list-m']), undefined);
  assert.deepEqual(await flotctl(apiEnv, ['list-m']), { code: 0, stdout: table, stderr: '' });
  assert.equal(listRequest(['list-units', '--json']), undefined);
  assert.deepEqual(await flotctl(apiEnv, ['list-units', '--json']), await flotctl(apiEnv, ['--json', 'list-units']));
  const odd = await flotctl(apiEnv, ['list-units', '--fields', '--full']);
  assert.deepEqual(odd, { code: 1, stdout: '', stderr: 'Invalid key in output format: "--full"\n' });
});
