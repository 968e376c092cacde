/**
 * diff and sync: a directory of unit files (in git) against the cluster.
 * diff exits 0 when nothing would change, 1 when something would, 2 or more
 * on error (kubectl's convention; 3 when the store is unreachable).
 */
import type { Command } from 'commander';
import { diffLines } from '../../client/sources/diff-report.js';
import { FollowRollout } from '../../client/sources/follow-rollout.js';
import { readManifest } from '../../client/sources/prepare.js';
import { syncSource, syncSummary, throwIfIncomplete } from '../../client/sources/sync.js';
import { rolloutOptions } from '../../rollout/options.js';
import { ExitCode, FlotillaError, UsageError } from '../../util/errors.js';
import { reportFailure } from '../report.js';
import type { Session } from '../session.js';
import { SyncProgress } from '../sync-progress.js';

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

function withSourceFlags(cmd: Command): Command {
  return cmd
    .argument('<dir>', 'directory of unit files (a git work tree or a directory in one)')
    .option('--source <name>', "the source's name (default: the repository and the directory's path in it, e.g. github.com/acme/infra:units)")
    .option('--prune', 'destroy units this source created that the directory no longer has')
    .option('--allow-empty', 'with --prune, allow destroying every unit of the source')
    .option('--adopt', 'let this source own units of the directory that exist in the cluster but no source owns');
}

function request(dir: string, opts: Record<string, unknown>): { dir: string; source?: string; prune: boolean; allowEmpty: boolean; adopt: boolean } {
  const source = str(opts.source);
  return { dir, ...(source !== undefined ? { source } : {}), prune: opts.prune === true, allowEmpty: opts.allowEmpty === true, adopt: opts.adopt === true };
}

export function registerSyncCommands(program: Command, session: Session): void {
  withSourceFlags(program.command('diff').description('show what sync would change in the cluster, unit by unit')).addHelpText(
    'after',
    '\nExit status: 0 nothing would change, 1 something would, 2 or more on error (3: cluster store unreachable).',
  ).action(async (dir: string, opts: Record<string, unknown>) => {
    try {
      const sources = await session.sources();
      const { manifest } = await readManifest(request(dir, opts));
      const report = await sources.diff(manifest);
      for (const w of report.warnings) session.output.err(`WARNING: ${w}`);
      if (session.globals.json) session.output.json(report);
      else for (const line of diffLines(report)) session.output.out(line);
      session.exitCode = report.changes.length > 0 ? 1 : 0;
    } catch (err) {
      // 1 means "differences" here: every other failure, reported as any command's, is at least 2
      // (a refused store or a bug included, which other commands exit 1 with).
      const code = reportFailure(err, session.output, session.globals.debug);
      session.exitCode = code === ExitCode.failure ? ExitCode.usage : code;
    }
  });

  withSourceFlags(program.command('sync').description('make the cluster match a directory: create new units, replace changed ones and start them'))
    .option('--allow-dirty', 'sync a tree that differs from its commit (or is not in git); provenance records it as dirty')
    .option('--no-block', 'write the changes and return without following the rollout')
    .option('--max-parallel <n>', 'running units replaced (so down) at once; the next goes when one has been healthy for --min-healthy-time', '1')
    .option('--min-healthy-time <duration>', 'a replaced unit must stay healthy this long before the next one goes (Go duration)', '10s')
    .option('--healthy-deadline <duration>', 'stop the rollout (and fail the sync) if a changed unit is not healthy within this (Go duration)', '5m')
    .option('--auto-revert', 'when the rollout stops on an unhealthy unit, put the previous content back')
    .action(async (dir: string, opts: Record<string, unknown>) => {
      let rollout;
      try {
        rollout = rolloutOptions({ minHealthyTime: str(opts.minHealthyTime), healthyDeadline: str(opts.healthyDeadline), maxParallel: str(opts.maxParallel), autoRevert: opts.autoRevert === true });
      } catch (err) {
        throw err instanceof FlotillaError ? new UsageError(err.message) : err;
      }
      const ctx = await session.operations();
      const sources = await session.sources();
      let progress: SyncProgress | undefined;
      const out = session.output;
      const result = await syncSource(ctx, sources, new FollowRollout(ctx), { ...request(dir, opts), allowDirty: opts.allowDirty === true, noBlock: opts.block === false, rollout }, {
        planned: (report) => {
          for (const w of report.warnings) out.err(`WARNING: ${w}`);
          if (!session.globals.json) for (const line of diffLines(report).slice(1, -1)) out.out(line);
        },
        starting: async (units, queued) => {
          if (!session.globals.json) progress = await SyncProgress.open(out, units, queued);
        },
        progress: (e) => progress?.event(e),
      }).finally(() => progress?.close());
      if (session.globals.json) out.json({ ...result.report, steps: result.steps, rolled: result.rolled, rollout: result.rollout ?? null, stillOnHosts: result.destroyed });
      else out.out(syncSummary(result));
      throwIfIncomplete(result);
    });
}
