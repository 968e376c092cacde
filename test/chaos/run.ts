/**
 * The chaos soak, from the command line:
 *
 *   npm run chaos -- --minutes 30 [--seed N] [--hosts 5] [--ttl 3] [--json FILE]
 *
 * Prints each burst as it goes, then faults injected by kind, samples taken,
 * violations (must be 0) and the worst recovery time. Exit status: 0 without
 * violations, 1 with, 2 when the run itself failed. Ctrl-C stops the faults,
 * heals everything and tears the cluster down before exiting.
 */
import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { errorMessage } from '../../src/util/errors.js';
import { randomSeed } from './random.js';
import { formatReport } from './report.js';
import { runChaos } from './suite.js';

function numberOption(value: string | undefined, name: string, fallback: number, min: number, max: number, integer = true): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n < min || n > max || (integer && !Number.isInteger(n))) {
    throw new Error(`--${name} must be ${integer ? 'a whole number' : 'a number'} from ${min} to ${max}, not ${value}`);
  }
  return n;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      minutes: { type: 'string' },
      seed: { type: 'string' },
      hosts: { type: 'string' },
      ttl: { type: 'string' },
      json: { type: 'string' },
    },
    strict: true,
  });
  const minutes = numberOption(values.minutes, 'minutes', 2, 0.1, 24 * 60, false);
  const seed = numberOption(values.seed, 'seed', randomSeed(), 0, 2 ** 32 - 1);
  const hosts = numberOption(values.hosts, 'hosts', 5, 4, 50);
  const ttl = numberOption(values.ttl, 'ttl', 3, 2, 60);

  const abort = new AbortController();
  let signals = 0;
  const onSignal = (sig: NodeJS.Signals): void => {
    signals++;
    process.stderr.write(signals === 1 ? `\n${sig}: healing faults and tearing the cluster down…\n` : `${sig}: still tearing down, please wait\n`);
    abort.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const t0 = Date.now();
  const say = (line: string): void => {
    process.stdout.write(`[${((Date.now() - t0) / 1000).toFixed(1).padStart(7)}s] ${line}\n`);
  };
  say(`chaos: seed ${seed} (rerun with --seed ${seed}), ${minutes} min, ${hosts} hosts, TTL ${ttl} s`);
  const report = await runChaos({ durationMs: minutes * 60_000, seed, hosts, ttlSeconds: ttl, say, signal: abort.signal });
  process.stdout.write('\n' + formatReport(report).join('\n') + '\n');
  if (values.json) await writeFile(values.json, JSON.stringify(report, null, 2) + '\n');
  if (abort.signal.aborted) return 130;
  return report.violations.length === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`chaos: ${errorMessage(err)}\n`);
    process.exit(2);
  },
);
