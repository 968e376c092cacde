/** When a unit counts as healthy, and rollout flags. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { healthTraits, unitHealth } from '../../src/rollout/health.js';
import { ROLLOUT_DEFAULTS, rolloutOptions } from '../../src/rollout/options.js';
import { UnitFile } from '../../src/unit/index.js';

const file = (text: string) => UnitFile.parse(text);
const simple = healthTraits('web.service', file('[Service]\nExecStart=/bin/sleep 1\n'));
const oneshot = healthTraits('job.service', file('[Service]\nType=oneshot\nExecStart=/bin/true\n'));
const remain = healthTraits('job.service', file('[Service]\nType=oneshot\nRemainAfterExit=yes\nExecStart=/bin/true\n'));
const overridden = healthTraits('job.service', file('[Service]\nType=oneshot\nType=simple\nExecStart=/bin/true\n'));
const socket = healthTraits('web.socket', file('[Socket]\nListenStream=80\n'));
const timer = healthTraits('tick.timer', file('[Timer]\nOnCalendar=daily\n'));

const CASES: Array<[string, ReturnType<typeof healthTraits>, string, string, string, string]> = [
  ['service running', simple, 'loaded', 'active', 'running', 'healthy'],
  ['service activating', simple, 'loaded', 'activating', 'start', 'pending'],
  ['service auto-restarting', simple, 'loaded', 'activating', 'auto-restart', 'pending'],
  ['service failed', simple, 'loaded', 'failed', 'failed', 'failed'],
  ['service inactive', simple, 'loaded', 'inactive', 'dead', 'pending'],
  ['service not found', simple, 'not-found', 'inactive', 'dead', 'failed'],
  ['service bad setting', simple, 'bad-setting', 'inactive', 'dead', 'failed'],
  ['oneshot ran with success', oneshot, 'loaded', 'inactive', 'dead', 'healthy'],
  ['oneshot running', oneshot, 'loaded', 'activating', 'start', 'pending'],
  ['oneshot failed', oneshot, 'loaded', 'failed', 'failed', 'failed'],
  ['oneshot RemainAfterExit exited', remain, 'loaded', 'active', 'exited', 'healthy'],
  ['oneshot RemainAfterExit inactive', remain, 'loaded', 'inactive', 'dead', 'pending'],
  ['last Type= wins', overridden, 'loaded', 'inactive', 'dead', 'pending'],
  ['socket listening', socket, 'loaded', 'active', 'listening', 'healthy'],
  ['timer waiting', timer, 'loaded', 'active', 'waiting', 'healthy'],
  ['timer running', timer, 'loaded', 'active', 'running', 'healthy'],
  ['timer elapsed', timer, 'loaded', 'active', 'elapsed', 'pending'],
  ['timer inactive', timer, 'loaded', 'inactive', 'dead', 'pending'],
];

describe('unit health', () => {
  for (const [name, traits, load, active, sub, want] of CASES) {
    it(`${name}: ${want}`, () => assert.equal(unitHealth(traits, { load, active, sub }), want));
  }
});

describe('rollout flags', () => {
  it('defaults are Nomad\'s', () => assert.deepEqual(rolloutOptions({}), { ...ROLLOUT_DEFAULTS }));
  it('parses Go durations and counts', () => {
    assert.deepEqual(rolloutOptions({ maxParallel: '3', minHealthyTime: '1m30s', healthyDeadline: '1h', autoRevert: true }), { maxParallel: 3, minHealthyMs: 90_000, healthyDeadlineMs: 3_600_000, autoRevert: true });
  });
  for (const [flags, pattern] of [
    [{ maxParallel: '0' }, /--max-parallel "0"/],
    [{ maxParallel: '1.5' }, /--max-parallel/],
    [{ minHealthyTime: '10' }, /--min-healthy-time "10".*needs a unit/],
    [{ healthyDeadline: '0' }, /--healthy-deadline "0"/],
    [{ minHealthyTime: '5m', healthyDeadline: '1m' }, /must be shorter than --healthy-deadline 1m0s/],
  ] as const) {
    it(`refuses ${JSON.stringify(flags)}`, () => assert.throws(() => rolloutOptions(flags), pattern));
  }
});
