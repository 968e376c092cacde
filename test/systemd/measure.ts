/**
 * Prints timings of the systemd client on a real host; asserts nothing.
 * Run: node dist/test/systemd/measure.js --run
 * (Needs --run so that a test runner globbing test/ does not start hosts.)
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startFixture, type Fixture } from './fixture.js';

const SLEEPER = '[Service]\nExecStart=/bin/sleep infinity\n';

function stats(ms: number[]): string {
  const s = [...ms].sort((a, b) => a - b);
  const at = (q: number): number => s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
  return `median ${at(0.5).toFixed(1)} ms, min ${s[0]!.toFixed(1)}, max ${s[s.length - 1]!.toFixed(1)} (n=${s.length})`;
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}

async function reloadLatency(fx: Fixture, runs: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < runs; i++) out.push(await timed(() => fx.manager.reload()));
  return out;
}

async function main(): Promise<void> {
  const fx = await startFixture('measure');
  const m = fx.manager;
  try {
    const few = Array.from({ length: 5 }, (_, i) => `few${i}.service`);
    await m.linkUnitFiles(await Promise.all(few.map((n) => fx.writeUnit(n, SLEEPER))));
    await m.reload();
    await Promise.all(few.map((n) => m.startUnit(n)));
    const loaded5 = (await m.listUnits()).length;
    console.log(`Reload, 5 units of ours running (${loaded5} loaded in total): ${stats(await reloadLatency(fx, 20))}`);

    const lat: number[] = [];
    const latReload: number[] = [];
    for (let i = 0; i < 20; i++) {
      for (const [withReload, into] of [[false, lat], [true, latReload]] as const) {
        const n = `lat${withReload ? 'r' : ''}${i}.service`;
        const path = await fx.writeUnit(n, SLEEPER);
        into.push(
          await timed(async () => {
            await m.linkUnitFiles([path]);
            if (withReload) await m.reload();
            if ((await m.startUnit(n)) !== 'done') throw new Error(`${n} did not start`);
          }),
        );
        await m.stopUnit(n);
        await m.disableUnitFiles([n]);
      }
    }
    console.log(`link + start -> active (sleep infinity), no Reload: ${stats(lat)}`);
    console.log(`link + Reload + start -> active (sleep infinity):   ${stats(latReload)}`);

    const many = Array.from({ length: 200 }, (_, i) => `many${i}.service`);
    await m.linkUnitFiles(await Promise.all(many.map((n) => fx.writeUnit(n, SLEEPER))));
    await m.reload();
    const before = m.jobsOvertaken;
    const startAll = await timed(() => Promise.all(many.map((n) => m.startUnit(n))));
    console.log(`200 concurrent starts: ${startAll.toFixed(0)} ms; JobRemoved before reply: ${m.jobsOvertaken - before}`);
    const loaded200 = (await m.listUnits()).length;
    console.log(`Reload, 205 units of ours running (${loaded200} loaded in total): ${stats(await reloadLatency(fx, 20))}`);
    console.log(`unitStatus of 200 units, concurrently: ${(await timed(() => Promise.all(many.map((n) => m.unitStatus(n))))).toFixed(0)} ms`);
    console.log(`listUnits (${loaded200} units): ${stats(await Promise.all(Array.from({ length: 10 }, () => timed(() => m.listUnits()))))}`);
    const stopAll = await timed(() => Promise.all(many.map((n) => m.stopUnit(n))));
    console.log(`200 concurrent stops: ${stopAll.toFixed(0)} ms`);

    // Does a brand-new unit start without Reload? (systemd retries loading a
    // not-found unit when the unit path cache is older than the directories.)
    const rtDir = join(fx.host.runtimeDir, 'systemd', 'user');
    await mkdir(rtDir, { recursive: true });
    const cases: [string, string, () => Promise<void>][] = [
      ['LinkUnitFiles, name never seen', 'nr-a.service', async () => m.linkUnitFiles([await fx.writeUnit('nr-a.service', SLEEPER)])],
      ['written into $XDG_RUNTIME_DIR/systemd/user', 'nr-b.service', () => writeFile(join(rtDir, 'nr-b.service'), SLEEPER)],
      ['name cached as not-found first, then linked', 'nr-c.service', async () => {
        await m.unitStatus('nr-c.service');
        await m.linkUnitFiles([await fx.writeUnit('nr-c.service', SLEEPER)]);
      }],
      ['StartUnit failed first, then written into runtime dir', 'nr-d.service', async () => {
        await m.startUnit('nr-d.service').catch(() => undefined);
        await writeFile(join(rtDir, 'nr-d.service'), SLEEPER);
      }],
    ];
    for (const [label, name, prepare] of cases) {
      await prepare();
      let outcome: string;
      try {
        outcome = `${await m.startUnit(name)} / ${(await m.unitStatus(name)).active}`;
      } catch (err) {
        outcome = `error: ${err instanceof Error ? err.message : String(err)}`;
      }
      console.log(`start without Reload, ${label}: ${outcome}`);
    }
  } finally {
    await fx.cleanup();
  }
}

if (process.argv.includes('--run')) {
  await main();
} else {
  console.log('usage: node dist/test/systemd/measure.js --run');
}
