// Runs every compiled test file with the Node test runner. Pure tests and
// cluster tests run in one invocation so the closing summary counts them all.
// Cluster tests bring up real etcd and systemd hosts: files run one at a time
// (2-core machines), tests inside a file are sequential.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

const root = new URL('../dist/test/', import.meta.url).pathname;
const only = process.argv.slice(2);

function find(dir) {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) {
      if (name !== 'bench' && name !== 'support') out.push(...find(p));
    } else if (name.endsWith('.test.js')) out.push(p);
  }
  return out;
}

let files = find(root);
// Matched against the path under dist/test only: a checkout at /work/wt/agent must not make "agent/" match every file.
if (only.length > 0) files = files.filter((f) => only.some((o) => f.slice(root.length).includes(o.replace(/^test\//, ''))));
// node --test with no files runs everything it can find: a filter that matches nothing is a mistake, not "run all".
if (files.length === 0) {
  process.stderr.write(`test/run.mjs: no compiled test file under dist/test matches ${only.join(' ')}: run npm run build, or check the names\n`);
  process.exit(2);
}
const res = spawnSync(process.execPath, ['--test', '--test-concurrency=1', '--test-reporter=spec', ...files], { stdio: 'inherit' });
process.exit(res.status ?? 1);
