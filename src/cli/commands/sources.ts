/**
 * sources, source add, source remove. The status columns (commit, rollout,
 * error) show "-" until something fills them: sync for the sources it
 * applies, the engine for the sources it follows (pull mode).
 */
import type { Command } from 'commander';
import type { SourceView } from '../../client/sources/sources.js';
import { formatDuration } from '../../util/duration.js';
import { type FieldSet, orDash } from '../fields.js';
import type { Session } from '../session.js';
import { listOptions, printList, selectFields, withListOptions } from './list-options.js';

/** The sources code (and git) is loaded when one of these commands runs, not at every flotctl start. */
const sourceOps = () => import('../../client/sources/sources.js');

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** "1a2b3c4d5e6f", "1a2b3c4d5e6f-dirty" (git describe's mark), "-": a commit in one table cell. */
export function commitCell(commit: string | undefined, dirty: boolean | undefined, full: boolean): string {
  if (commit === undefined) return '-';
  const id = commit === '' ? 'none' : full ? commit : commit.slice(0, 12);
  return dirty ? `${id}-dirty` : id;
}

const FIELDS: FieldSet<SourceView> = {
  name: { text: (s) => s.name, json: (s) => s.name },
  mode: { text: (s) => orDash(s.definition?.mode), json: (s) => s.definition?.mode ?? null },
  units: { text: (s) => String(s.units), json: (s) => s.units },
  commit: {
    text: (s, c) => commitCell(s.status?.applied?.commit, s.status?.applied?.dirty, c.full),
    json: (s) => (s.status?.applied ? { commit: s.status.applied.commit || null, dirty: s.status.applied.dirty, at: s.status.applied.at } : null),
  },
  applied: { text: (s) => orDash(s.status?.applied?.at), json: (s) => s.status?.applied?.at ?? null },
  rollout: {
    text: (s) => (s.status?.applying ? 'interrupted' : s.status?.rollout ? `${s.status.rollout.state}(${s.status.rollout.done}/${s.status.rollout.total})` : '-'),
    json: (s) => s.status?.rollout ?? (s.status?.applying ? { state: 'interrupted', ...s.status.applying } : null),
  },
  error: { text: (s) => orDash(s.status?.error?.message.replace(/\s+/g, ' ')), json: (s) => s.status?.error ?? null },
  repository: { text: (s) => orDash(s.definition?.repository), json: (s) => s.definition?.repository ?? null },
  path: { text: (s) => orDash(s.definition?.path), json: (s) => s.definition?.path ?? null },
  url: { text: (s) => orDash(s.definition?.url), json: (s) => s.definition?.url ?? null },
  branch: { text: (s) => orDash(s.definition?.branch), json: (s) => s.definition?.branch ?? null },
  interval: {
    text: (s) => (s.definition?.intervalMs === undefined ? '-' : formatDuration(s.definition.intervalMs)),
    json: (s) => s.definition?.intervalMs ?? null,
  },
  prune: { text: (s) => (s.definition?.prune === undefined ? '-' : String(s.definition.prune)), json: (s) => s.definition?.prune ?? null },
};

const DEFAULTS = ['name', 'mode', 'units', 'commit', 'rollout', 'error'];

export function registerSourceCommands(program: Command, session: Session): void {
  withListOptions(program.command('sources').description('list the sources of units (directories synced or repositories followed) and what each applied'), Object.keys(FIELDS), DEFAULTS)
    .action(async (opts: Record<string, unknown>) => {
      const o = listOptions(opts);
      const fields = selectFields(FIELDS, DEFAULTS, o);
      printList(session, await (await session.sources()).listSources(), fields, FIELDS, o);
    });

  const source = program.command('source').description('define or remove a source the cluster follows (pull mode)');
  source
    .command('add')
    .description('store a source definition: the elected engine fetches the repository and applies each new commit')
    .argument('<name>', 'source name')
    .argument('<url>', 'git repository URL (no credentials: they stay on the hosts)')
    .option('--branch <branch>', "branch to follow (default: the remote's HEAD)")
    .option('--path <path>', 'directory of unit files inside the repository (default: its top)')
    .option('--interval <duration>', 'how often to fetch (Go duration, default 1m)')
    .option('--prune', 'destroy units the repository no longer has')
    .action(async (name: string, url: string, opts: Record<string, unknown>) => {
      const o = { name, url, prune: opts.prune === true, ...pick(opts, 'branch', 'path', 'interval') };
      const r = await (await sourceOps()).addSource(await session.sources(), o);
      session.output.out(`Added source ${r.name}: following ${r.url}${r.branch ? ` branch ${r.branch}` : ''}${r.path ? ` path ${r.path}` : ''} every ${formatDuration(r.intervalMs ?? 0)}`);
    });
  source
    .command('remove')
    .description('stop following a source and forget what it owns; with --prune, destroy its units first')
    .argument('<name>', 'source name')
    .option('--prune', 'destroy the units the source owns')
    .option('--no-block', 'with --prune, do not wait for the units to leave their hosts')
    .action(async (name: string, opts: Record<string, unknown>) => {
      const ctx = await session.operations();
      const r = await (await sourceOps()).removeSource(ctx, await session.sources(), name, { prune: opts.prune === true, attempts: opts.block === false ? -1 : 150 });
      session.output.out(opts.prune === true ? `Removed source ${name} and destroyed its ${r.destroyed.length} units` : `Removed source ${name}; its ${r.released} units stay in the cluster, owned by no source`);
    });
}

function pick(opts: Record<string, unknown>, ...keys: Array<'branch' | 'path' | 'interval'>): { branch?: string; path?: string; interval?: string } {
  const out: { branch?: string; path?: string; interval?: string } = {};
  for (const k of keys) {
    const v = str(opts[k]);
    if (v !== undefined) out[k] = v;
  }
  return out;
}
