/**
 * The agent's batch decisions (pure): which tasks one reconcile batch runs,
 * in which order, for what is assigned, on disk, carried out, handed over,
 * failed or held. No etcd, no systemd: plain data in, a task list out.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { convergeAction, handoverCandidates, planBatch, type BatchInputs, type BatchTask } from '../../src/agent/batch-plan.js';
import type { UnitFailure } from '../../src/agent/unit-failures.js';
import type { AssignedState, AssignmentRecord } from '../../src/registry/records.js';

const NOW = 1_000_000;

function assigned(unit: string, hash: string, desired: AssignedState = 'launched'): AssignmentRecord {
  return { unit, hash, desired };
}

function failure(hash: string, retryAt: number, desired: AssignedState = 'launched'): UnitFailure {
  return { hash, desired, reason: 'start refused', attempts: 1, retryAt };
}

interface Case {
  name: string;
  desired?: AssignmentRecord[];
  unreadable?: string[];
  local?: Record<string, string>;
  applied?: Record<string, AssignedState>;
  reported?: Record<string, string>;
  bound?: string[];
  globals?: string[];
  returning?: string[];
  unready?: string[];
  failures?: Record<string, UnitFailure>;
  handovers?: Record<string, { stop: false } | { stop: true; reason: string }>;
  running?: string[];
  held?: boolean;
  /** The tasks, written short (see `short`), without the two closing ones every unheld batch ends with. */
  tasks: string[];
}

function inputs(c: Case): BatchInputs {
  return {
    held: c.held ?? false,
    desired: new Map((c.desired ?? []).map((a) => [a.unit, a])),
    unreadable: new Set(c.unreadable),
    local: new Map(Object.entries(c.local ?? {})),
    applied: new Map(Object.entries(c.applied ?? {})),
    reported: new Map(Object.entries(c.reported ?? {})),
    bound: new Set(c.bound),
    globals: new Set(c.globals),
    returning: new Set(c.returning),
    unready: new Set(c.unready),
    failures: new Map(Object.entries(c.failures ?? {})),
    now: NOW,
    handovers: new Map(Object.entries(c.handovers ?? {})),
    running: new Set(c.running),
  };
}

/** One line per task, so a table row reads like the batch's log. */
function short(t: BatchTask): string {
  switch (t.kind) {
    case 'forget-failure':
      return `forget-failure ${t.unit}${t.removeReport ? ' +report' : ''}`;
    case 'end-handover':
    case 'retire':
      return `${t.kind} ${t.unit}`;
    case 'hand-over':
      return `hand-over ${t.unit}${t.global ? ' global' : ''}`;
    case 'returning-decided':
      return `returning-decided ${t.units.join(',')}`;
    case 'unload':
      return `unload ${t.unit}${t.handoverOver === undefined ? '' : ` (${t.handoverOver})`}`;
    case 'install':
      return `install ${t.assignments.map((a) => `${a.unit}:${t.rewrite.has(a.unit) ? 'write' : 'link'}`).join(' ')}`;
    case 'converge':
      return `converge ${t.assignment.unit} ${t.assignment.desired}@${t.assignment.hash}${t.afterInstall ? ' after-install' : ''}`;
    default:
      return t.kind;
  }
}

const INSTALLED = ['reload', 'report-install-failures'];
const END = ['retain-contents', 'arm-retry'];

const cases: Case[] = [
  {
    name: 'new assignment: write and link, reload if needed, then start',
    desired: [assigned('a.service', 'h1')],
    tasks: ['install a.service:write', ...INSTALLED, 'converge a.service launched@h1 after-install'],
  },
  {
    name: 'new assignment to stay loaded: installed, then brought to loaded',
    desired: [assigned('a.service', 'h1', 'loaded')],
    tasks: ['install a.service:write', ...INSTALLED, 'converge a.service loaded@h1 after-install'],
  },
  {
    name: 'changed hash of a unit we run: stop the old copy, rewrite, start again',
    desired: [assigned('a.service', 'h2')],
    local: { 'a.service': 'h1' },
    applied: { 'a.service': 'launched' },
    reported: { 'a.service': 'h1' },
    tasks: ['retire a.service', 'install a.service:write', ...INSTALLED, 'converge a.service launched@h2 after-install'],
  },
  {
    name: 'carried out and reported with this content: nothing to do',
    desired: [assigned('a.service', 'h1')],
    local: { 'a.service': 'h1' },
    applied: { 'a.service': 'launched' },
    reported: { 'a.service': 'h1' },
    tasks: [],
  },
  {
    name: 'carried out, but its report is gone or names other content: converged again',
    desired: [assigned('a.service', 'h1'), assigned('b.service', 'h1')],
    local: { 'a.service': 'h1', 'b.service': 'h1' },
    applied: { 'a.service': 'launched', 'b.service': 'launched' },
    reported: { 'b.service': 'h0' },
    tasks: ['converge a.service launched@h1', 'converge b.service launched@h1'],
  },
  {
    name: 'on disk but never carried out (adopted after a restart): converged (started or adopted)',
    desired: [assigned('a.service', 'h1')],
    local: { 'a.service': 'h1' },
    tasks: ['converge a.service launched@h1'],
  },
  {
    name: 'launched -> loaded: same file, stopped',
    desired: [assigned('a.service', 'h1', 'loaded')],
    local: { 'a.service': 'h1' },
    applied: { 'a.service': 'launched' },
    reported: { 'a.service': 'h1' },
    tasks: ['converge a.service loaded@h1'],
  },
  {
    name: 'loaded -> launched: same file, started',
    desired: [assigned('a.service', 'h1', 'launched')],
    local: { 'a.service': 'h1' },
    applied: { 'a.service': 'loaded' },
    reported: { 'a.service': 'h1' },
    tasks: ['converge a.service launched@h1'],
  },
  {
    name: 'unassigned: stopped and unloaded',
    local: { 'a.service': 'h1' },
    applied: { 'a.service': 'launched' },
    reported: { 'a.service': 'h1' },
    tasks: ['unload a.service'],
  },
  {
    name: 'unassigned but returning and running: handed over, not stopped',
    local: { 'a.service': 'h1' },
    returning: ['a.service'],
    running: ['a.service'],
    tasks: ['hand-over a.service', 'returning-decided a.service'],
  },
  {
    name: 'unassigned, returning, but not running: unloaded',
    local: { 'a.service': 'h1' },
    returning: ['a.service'],
    tasks: ['returning-decided a.service', 'unload a.service'],
  },
  {
    name: 'returning global unit re-placed: handed over as global (a copy elsewhere replaces nothing)',
    local: { 'g.service': 'h1' },
    globals: ['g.service'],
    returning: ['g.service'],
    running: ['g.service'],
    tasks: ['hand-over g.service global', 'returning-decided g.service'],
  },
  {
    name: 'OnDisconnect=stop unit bound to the lease target, returning and unassigned: unloaded, never handed over',
    local: { 's.service': 'h1' },
    bound: ['s.service'],
    returning: ['s.service'],
    running: ['s.service'],
    tasks: ['returning-decided s.service', 'unload s.service'],
  },
  {
    name: 'OnDisconnect=stop unit after the switch fired (applied forgotten): started again',
    desired: [assigned('s.service', 'h1')],
    local: { 's.service': 'h1' },
    bound: ['s.service'],
    reported: { 's.service': 'h1' },
    tasks: ['converge s.service launched@h1'],
  },
  {
    name: 'handed over: waits while the verdict says so, unloaded once it says stop',
    local: { 'a.service': 'h1', 'b.service': 'h1' },
    handovers: { 'a.service': { stop: false }, 'b.service': { stop: true, reason: 'replacement active on m2' } },
    tasks: ['unload b.service (replacement active on m2)'],
  },
  {
    name: 'assigned here again while handed over: the handover ends and the copy is adopted',
    desired: [assigned('a.service', 'h1')],
    local: { 'a.service': 'h1' },
    handovers: { 'a.service': { stop: false } },
    tasks: ['end-handover a.service', 'converge a.service launched@h1'],
  },
  {
    name: 'unreadable assignment: left as it is (not unloaded, not started, its failure kept)',
    unreadable: ['a.service'],
    local: { 'a.service': 'h1' },
    applied: { 'a.service': 'launched' },
    failures: { 'a.service': failure('h1', NOW + 5000) },
    tasks: [],
  },
  {
    name: 'failed and not due: neither installed nor converged',
    desired: [assigned('a.service', 'h1'), assigned('b.service', 'h1')],
    local: { 'b.service': 'h1' },
    failures: { 'a.service': failure('h1', NOW + 1), 'b.service': failure('h1', NOW + 1) },
    tasks: [],
  },
  {
    name: 'failed and due: tried again',
    desired: [assigned('a.service', 'h1')],
    failures: { 'a.service': failure('h1', NOW) },
    tasks: ['install a.service:write', ...INSTALLED, 'converge a.service launched@h1 after-install'],
  },
  {
    name: 'failed for another assignment (new content or desired state): tried at once',
    desired: [assigned('a.service', 'h2'), assigned('b.service', 'h1', 'loaded')],
    local: { 'b.service': 'h1' },
    failures: { 'a.service': failure('h1', NOW + 60_000), 'b.service': failure('h1', NOW + 60_000, 'launched') },
    tasks: ['install a.service:write', ...INSTALLED, 'converge a.service launched@h2 after-install', 'converge b.service loaded@h1'],
  },
  {
    name: 'file on disk but a link failed (unready): linked again, not rewritten, not retired',
    desired: [assigned('a.service', 'h1')],
    local: { 'a.service': 'h1' },
    unready: ['a.service'],
    tasks: ['install a.service:link', ...INSTALLED, 'converge a.service launched@h1 after-install'],
  },
  {
    name: 'failures of units no longer assigned are forgotten; one that never got a file loses its report too',
    local: { 'b.service': 'h1' },
    failures: { 'a.service': failure('h1', NOW + 1), 'b.service': failure('h1', NOW + 1) },
    tasks: ['forget-failure a.service +report', 'forget-failure b.service', 'unload b.service'],
  },
  {
    name: 'held (lease lost): no tasks at all, whatever changed',
    held: true,
    desired: [assigned('a.service', 'h2')],
    local: { 'a.service': 'h1', 'b.service': 'h1' },
    returning: ['a.service', 'b.service'],
    failures: { 'c.service': failure('h1', NOW) },
    tasks: [],
  },
  {
    name: 'a mixed batch keeps the order: forget, end handovers, hand over, unload, retire, install, converge',
    desired: [assigned('new.service', 'h1'), assigned('chg.service', 'h2'), assigned('again.service', 'h1'), assigned('same.service', 'h1')],
    local: { 'chg.service': 'h1', 'again.service': 'h1', 'same.service': 'h1', 'gone.service': 'h1', 'kept.service': 'h1' },
    applied: { 'chg.service': 'launched', 'same.service': 'launched' },
    reported: { 'chg.service': 'h1', 'same.service': 'h1' },
    returning: ['kept.service', 'gone.service'],
    running: ['kept.service'],
    handovers: { 'again.service': { stop: false } },
    failures: { 'old.service': failure('h1', NOW + 1) },
    tasks: [
      'forget-failure old.service +report',
      'end-handover again.service',
      'hand-over kept.service',
      'returning-decided kept.service,gone.service',
      'unload gone.service',
      'retire chg.service',
      'install new.service:write chg.service:write',
      ...INSTALLED,
      'converge new.service launched@h1 after-install',
      'converge chg.service launched@h2 after-install',
      'converge again.service launched@h1',
    ],
  },
];

for (const c of cases) {
  test(`plan: ${c.name}`, () => {
    const got = planBatch(inputs(c)).map(short);
    assert.deepEqual(got, c.held ? [] : [...c.tasks, ...END]);
  });
}

test('handover candidates: returning, unassigned, not handed over yet, not bound; none while held', () => {
  const i = inputs({
    name: '',
    desired: [assigned('mine.service', 'h1')],
    unreadable: ['odd.service'],
    local: { 'mine.service': 'h1', 'odd.service': 'h1', 'r.service': 'h1', 'b.service': 'h1', 'h.service': 'h1', 'n.service': 'h1' },
    returning: ['mine.service', 'odd.service', 'r.service', 'b.service', 'h.service'],
    bound: ['b.service'],
    handovers: { 'h.service': { stop: false } },
    tasks: [],
  });
  assert.deepEqual(handoverCandidates(i), ['r.service']);
  assert.deepEqual(handoverCandidates({ ...i, held: true }), []);
});

test('converge action: start, stop, adopt or nothing, by assigned state and systemd active state', () => {
  const table: [AssignedState, string, string][] = [
    ['launched', 'inactive', 'start'],
    ['launched', 'failed', 'start'],
    ['launched', 'deactivating', 'start'],
    ['launched', 'active', 'adopt'],
    ['launched', 'activating', 'adopt'],
    ['launched', 'reloading', 'adopt'],
    ['loaded', 'active', 'stop'],
    ['loaded', 'activating', 'stop'],
    ['loaded', 'reloading', 'stop'],
    ['loaded', 'inactive', 'none'],
    ['loaded', 'failed', 'none'],
  ];
  for (const [desired, active, want] of table) assert.equal(convergeAction(desired, active), want, `${desired} while ${active}`);
});
