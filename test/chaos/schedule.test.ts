/** The pure parts of the chaos suite: seeded schedules, their limits, violation episodes. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FaultLog } from './fault-log.js';
import { Random } from './random.js';
import { planBurst, shortPartitionMaxMs } from './schedule.js';
import { Violations } from './violations.js';

test('a seed gives the same schedule every time', () => {
  const opts = { hosts: 5, etcdMembers: 3 as const, ttlSeconds: 3 };
  const a = new Random(1234);
  const b = new Random(1234);
  for (let i = 0; i < 50; i++) assert.deepEqual(planBurst(a, opts), planBurst(b, opts));
});

test('every burst is survivable by design and its faults last as planned', () => {
  for (const hosts of [4, 5, 8]) {
    for (const ttl of [3, 10]) {
      const rng = new Random(hosts * 100 + ttl);
      for (let i = 0; i < 2000; i++) {
        const plans = planBurst(rng, { hosts, etcdMembers: 3, ttlSeconds: ttl });
        assert.ok(plans.length >= 1 && plans.length <= 3);
        assert.ok(plans.filter((p) => p.kind === 'etcd-kill' || p.kind === 'etcd-outage').length <= 1, 'two etcd faults at once: a member restarted without quorum cannot come up');
        const targeted = plans.filter((p) => p.host !== undefined).map((p) => p.host);
        assert.equal(new Set(targeted).size, targeted.length, 'two faults on one planned host');
        const hostFaults = plans.filter((p) => p.kind !== 'etcd-kill' && p.kind !== 'etcd-outage').length;
        assert.ok(hostFaults <= hosts - 1, 'every host faulted at once');
        for (const p of plans) {
          if (p.kind === 'agent-stop' || p.kind === 'engine-stop') assert.ok(p.durationMs > ttl * 1000, 'a SIGSTOP must outlast the TTL');
          if (p.kind === 'partition') {
            const short = p.durationMs <= shortPartitionMaxMs(ttl);
            assert.ok(short || p.durationMs > ttl * 1000, `partition of ${p.durationMs} ms is neither clearly transient nor past the TTL`);
            assert.ok(p.mode === 'blackhole' || p.mode === 'reset');
          }
          if (p.kind === 'etcd-kill') assert.ok(p.member !== undefined && p.member >= 0 && p.member < 3);
          if (p.kind === 'etcd-outage') assert.ok(p.durationMs > ttl * 1000, 'a whole-store outage must outlast the TTL');
        }
      }
    }
  }
});

test('one etcd member: no etcd-kill is planned; a zero weight disables a kind', () => {
  const rng = new Random(7);
  for (let i = 0; i < 500; i++) {
    const plans = planBurst(rng, { hosts: 4, etcdMembers: 1, ttlSeconds: 3, weights: { partition: 0 } });
    assert.ok(plans.every((p) => p.kind !== 'etcd-kill' && p.kind !== 'partition'));
  }
});

test('violations are episodes: consecutive sightings extend one, a clear ends it, and they name the faults in force', () => {
  const log = new FaultLog(Date.now());
  const f = log.begin('partition', 'host2', 'blackhole 5.0s');
  const v = new Violations(log);
  v.seen('duplicate-stop', 'a.service', ['host1', 'host2'], 100, 'x');
  v.seen('duplicate-stop', 'a.service', ['host1', 'host3'], 300, 'x');
  v.clear('duplicate-stop', 'a.service');
  log.end(f);
  v.seen('duplicate-stop', 'a.service', ['host1', 'host2'], log.now() + 1, 'again');
  assert.equal(v.count(), 2);
  const [first, second] = v.list;
  assert.deepEqual({ first: first?.first, last: first?.last, samples: first?.samples, hosts: first?.hosts }, { first: 100, last: 300, samples: 2, hosts: ['host1', 'host2', 'host3'] });
  assert.deepEqual(first?.active, [f.id]);
  assert.deepEqual(second?.active, []);
  assert.deepEqual(second?.recent, [f.id]);
});
