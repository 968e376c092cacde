/**
 * fleet's lazyCreateUnits, shared by submit, load, start and restart: make
 * sure every named unit exists in the cluster, creating it from a local file
 * or a template, honouring --replace.
 *
 * Unlike fleet, every argument is resolved and validated before anything is
 * written, so one bad file or name leaves the cluster untouched.
 */
import { posix } from 'node:path';
import { UnitFile, parseRequirements, parseUnitName, validateUnit, validateUnitName } from '../../unit/index.js';
import { FlotillaError, errorMessage } from '../../util/errors.js';
import type { DesiredState, WriteMark } from '../types.js';
import { mapLimit } from './concurrency.js';
import type { OperationContext } from './context.js';
import { fail, isCommandFailure } from './errors.js';
import { checkReplaceCycles } from './replaces.js';
import { type UnitArg, uniqueUnitArgs } from './unit-args.js';
import { waitForUnitStates } from './waits.js';

export type CreateCommand = 'submit' | 'load' | 'start' | 'restart';

export interface CreateOptions {
  command: CreateCommand;
  replace?: boolean;
  /** --block-attempts for the wait after creation; 0 or less = wait until done. */
  blockAttempts?: number;
  /**
   * The desired state load or start goes on to set: a unit that did not
   * exist is created in it directly, in its one write (a replaced unit is
   * still reset to inactive first, so its old version is unscheduled).
   */
  goal?: DesiredState;
}

export interface CreatedUnit {
  name: string;
  /** The desired state it was written with. */
  desired: DesiredState;
  global: boolean;
}

export interface CreateResult {
  /** In argument order. */
  created: CreatedUnit[];
  /** The first write's mark: a change feed from it misses nothing of the units written. */
  firstWrite?: WriteMark;
}

/** Desired states in which --replace may overwrite a unit, per command (fleet's checkReplaceUnitState). */
const REPLACEABLE: Record<CreateCommand, readonly DesiredState[]> = {
  submit: ['inactive'],
  load: ['inactive', 'loaded'],
  start: ['inactive', 'loaded', 'launched'],
  restart: [],
};

/** Reads and checks are independent per argument; bound them so 1000 args do not open 4000 requests at once. */
const PLAN_CONCURRENCY = 16;

type Line = ['out' | 'err', string];

interface Create {
  name: string;
  file: UnitFile;
  /** A unit of that name existed (and is replaced). */
  replacing: boolean;
}

interface Plan {
  lines: Line[];
  create?: Create;
}

type Loaded = { file: UnitFile } | { missing: true } | { error: string };

async function loadFile(ctx: OperationContext, path: string): Promise<Loaded> {
  let text: string | undefined;
  try {
    text = await ctx.files.read(path);
  } catch (err) {
    return { error: errorMessage(err) };
  }
  if (text === undefined) return { missing: true };
  try {
    return { file: UnitFile.parse(text) };
  } catch (err) {
    return { error: errorMessage(err) };
  }
}

function templatePath(path: string, template: string): string {
  return posix.join(posix.dirname(path), template);
}

/**
 * fleet's isLocalUnitDifferent: compare the registry copy with the local
 * file, else (for an instance) with the local template. Warns about a
 * difference when not replacing. Returns undefined with `problem` set when
 * no local copy could be compared.
 */
async function compareLocal(
  ctx: OperationContext,
  u: UnitArg,
  registryName: string,
  registryHash: string,
  replace: boolean,
  lines: Line[],
): Promise<{ different: boolean } | { problem: string }> {
  const local = await loadFile(ctx, u.path);
  if ('file' in local) {
    const different = local.file.hash() !== registryHash;
    if (different && !replace) {
      lines.push(['err', `WARNING: Unit ${registryName} in registry differs from local unit file ${u.path}. Add --replace to override.`]);
    }
    return { different };
  }
  if ('error' in local) return { problem: `failed getting Unit(${u.path}) from file: ${local.error}` };
  const info = parseUnitName(u.name);
  if (!info.isInstance) return { problem: `no local unit file ${u.path} to compare with Unit(${registryName}) in Registry` };
  const tpath = templatePath(u.path, info.template);
  const tmpl = await loadFile(ctx, tpath);
  if ('file' in tmpl) {
    const different = tmpl.file.hash() !== registryHash;
    if (different && !replace) {
      lines.push(['err', `WARNING: Unit ${registryName} in registry differs from local template unit file ${tpath}. Add --replace to override.`]);
    }
    return { different };
  }
  if ('error' in tmpl) return { problem: `unable to load template Unit(${info.template}) from file ${tpath}: ${tmpl.error}` };
  return { problem: `no local unit file ${u.path} or template ${tpath} to compare with Unit(${registryName}) in Registry` };
}

/** fleet's getUnitFile: local file, else the template from the registry, else the local template. */
async function sourceFile(ctx: OperationContext, u: UnitArg, replace: boolean, lines: Line[]): Promise<UnitFile> {
  const local = await loadFile(ctx, u.path);
  if ('file' in local) return local.file;
  if ('error' in local) throw fail(`failed getting Unit(${u.path}) from file: ${local.error}`);
  const info = parseUnitName(u.name);
  if (!info.isInstance) throw fail(`unable to find Unit(${u.name}) in Registry or on filesystem`);
  const fromTemplate = (why: string): FlotillaError => fail(`failed getting Unit(${u.path}) from template: ${why}`);
  const registered = await ctx.client.getUnitFile(info.template);
  if (registered) {
    // Only warns; the registry's template is what instances are made of.
    await compareLocal(ctx, u, info.template, registered.hash(), replace, lines);
    return registered;
  }
  const tpath = templatePath(u.path, info.template);
  const tmpl = await loadFile(ctx, tpath);
  if ('file' in tmpl) return tmpl.file;
  if ('error' in tmpl) throw fromTemplate(`unable to load template Unit(${info.template}) from file: ${tmpl.error}`);
  throw fromTemplate(`unable to find template Unit(${info.template}) in Registry or on filesystem`);
}

async function planOne(ctx: OperationContext, u: UnitArg, opts: CreateOptions): Promise<Plan> {
  const lines: Line[] = [];
  const replace = opts.replace === true;
  validateUnitName(u.name);
  const existing = await ctx.client.getUnitRecord(u.name);
  if (existing) {
    const cmp = await compareLocal(ctx, u, u.name, existing.hash, replace, lines);
    if (!replace) return { lines };
    if ('problem' in cmp) throw fail(cmp.problem);
    if (!cmp.different) {
      lines.push(['out', `Found same Unit(${u.name}) in Registry, nothing to do`]);
      return { lines };
    }
    if (!REPLACEABLE[opts.command].includes(existing.desiredState)) {
      lines.push(['err', `Warning: can not replace Unit(${u.name}) in state '${existing.desiredState}', use the appropriate command`]);
      return { lines };
    }
  }
  const file = await sourceFile(ctx, u, replace, lines);
  let warnings: string[];
  try {
    warnings = validateUnit(file, u.name).warnings;
  } catch (err) {
    if (err instanceof FlotillaError) throw fail(`Unit ${u.name}: ${err.message}`);
    throw err;
  }
  for (const w of warnings) lines.push(['err', `WARNING: ${w}`]);
  return { lines, create: { name: u.name, file, replacing: existing !== undefined } };
}

/**
 * Returns the names of the units it created. Throws a FlotillaError with
 * fleet's reason; callers prefix it with "Error creating units: ".
 */
export async function lazyCreateUnits(ctx: OperationContext, args: readonly string[], opts: CreateOptions): Promise<string[]> {
  return (await createUnits(ctx, args, opts)).created.map((c) => c.name);
}

/** lazyCreateUnits, saying what each created unit was written as. */
export async function createUnits(ctx: OperationContext, args: readonly string[], opts: CreateOptions): Promise<CreateResult> {
  const units = uniqueUnitArgs(args);
  const settled = await mapLimit(units, PLAN_CONCURRENCY, (u) =>
    planOne(ctx, u, opts).then(
      (plan) => ({ plan }),
      (error: unknown) => ({ error }),
    ),
  );
  // Messages in argument order, up to the first failing argument, as fleet would have printed them.
  const creates: Create[] = [];
  for (const s of settled) {
    if ('error' in s) throw s.error;
    for (const [stream, line] of s.plan.lines) ctx.sink[stream](line);
    if (s.plan.create) creates.push(s.plan.create);
  }
  await checkReplaceCycles(ctx, creates);
  const result: CreateResult = { created: [] };
  for (const c of creates) {
    const desired = c.replacing ? 'inactive' : (opts.goal ?? 'inactive');
    let mark: WriteMark;
    try {
      mark = await ctx.client.createUnit(c.name, c.file, desired);
    } catch (err) {
      if (err instanceof FlotillaError && !isCommandFailure(err)) throw err;
      throw fail(`failed creating unit ${c.name}: ${errorMessage(err)}`);
    }
    result.firstWrite ??= mark;
    result.created.push({ name: c.name, desired, global: parseRequirements(c.file, c.name).requirements.global });
    ctx.sink.debug(`Created Unit(${c.name}) in Registry`);
  }
  await reportCreated(ctx, creates, opts);
  return result;
}

/**
 * fleet's "Unit x inactive" per created unit, in argument order. A unit that
 * did not exist was inactive until this write, whatever state it was written
 * in: nothing can have run it, so nothing is waited for. A replaced unit may
 * still run its old version: it is waited on until it is unscheduled.
 */
async function reportCreated(ctx: OperationContext, creates: readonly Create[], opts: CreateOptions): Promise<void> {
  const replaced = creates.filter((c) => c.replacing).map((c) => c.name);
  const waited = new Map<string, string>();
  let failure: unknown;
  if (replaced.length > 0) {
    try {
      // Lines held back, to go out with the new units' lines in argument order.
      await waitForUnitStates(ctx, replaced, 'inactive', Math.max(0, opts.blockAttempts ?? 0), 'submit', {
        report: (name, line) => waited.set(name, line),
      });
    } catch (err) {
      failure = err;
    }
  }
  for (const c of creates) {
    const line = c.replacing ? waited.get(c.name) : `Unit ${c.name} inactive`;
    if (line === undefined) break;
    ctx.sink.out(line);
  }
  if (failure === undefined) return;
  if (!isCommandFailure(failure)) throw failure;
  ctx.sink.err(`Error waiting on unit creation: ${failure.message}`);
  throw fail('One or more errors creating units');
}

