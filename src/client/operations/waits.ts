/**
 * The waits fleetctl's blocking commands perform, on top of UnitWaiter:
 * current state reaching a goal, systemd reporting the unit active, and a
 * destroyed unit's states disappearing.
 */
import { FlotillaError } from '../../util/errors.js';
import { machineFullLegend, machineIdLegend } from '../legend.js';
import { problemMachineIds, reasonLines, summarizeReasons } from '../reasons.js';
import type { DesiredState, Unplaced, UnitSummary } from '../types.js';
import type { OperationContext } from './context.js';
import { fail, isCommandFailure } from './errors.js';
import { type UnitWaiter, WaitTimeoutError, budgetFor, withWaiter } from './waiter.js';

/** "Unit hello.service launched on 113f16a7.../10.0.0.1" */
export async function unitStateLine(ctx: OperationContext, u: UnitSummary): Promise<string> {
  const line = `Unit ${u.name} ${u.currentState}`;
  if (!u.machineId) return line;
  const machine = (await ctx.machines.get(u.machineId)) ?? { id: u.machineId };
  return `${line} on ${machineFullLegend(machine, false)}`;
}

/**
 * Store outages and bugs win (their exit code and message matter more);
 * otherwise the timeouts are reported together in one line.
 */
export function throwFailures(results: ReadonlyArray<PromiseSettledResult<unknown>>): void {
  const reasons = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => r.reason as unknown);
  if (reasons.length === 0) return;
  const severe = reasons.find((r) => !isCommandFailure(r));
  if (severe !== undefined) throw severe;
  const line = reasons.map((r) => (r as Error).message).join('; ');
  // Timeouts alone stay timeouts: a caller may wait out (sync's destroyed units) what it would not fail on.
  if (reasons.every((r) => r instanceof WaitTimeoutError)) throw new WaitTimeoutError(line);
  throw fail(line);
}

/**
 * Units are waited on concurrently, but each unit's line is released only
 * after the lines of the units before it (or their failure), so output
 * follows the command line whatever order the cluster finishes in.
 */
class OrderedLines {
  private readonly done: Array<(() => void) | null | undefined>;
  private next = 0;

  constructor(count: number) {
    this.done = new Array<(() => void) | null | undefined>(count);
  }

  /** `emit` runs once every earlier unit has emitted or failed; null = this unit failed. */
  settle(i: number, emit: (() => void) | null): void {
    this.done[i] = emit;
    while (this.next < this.done.length && this.done[this.next] !== undefined) {
      this.done[this.next]?.();
      this.next++;
    }
  }
}

/** How a wait is run: on a waiter the caller keeps open across waits (one watch for all), or on its own. */
export interface WaitOptions {
  waiter?: UnitWaiter;
}

async function eachUnit(
  ctx: OperationContext,
  names: readonly string[],
  fn: (w: UnitWaiter, name: string) => Promise<(() => void) | void>,
  waiter?: UnitWaiter,
): Promise<void> {
  if (names.length === 0) return;
  const lines = new OrderedLines(names.length);
  const run = async (w: UnitWaiter): Promise<void> => {
    const results = await Promise.allSettled(
      names.map(async (name, i) => {
        try {
          const emit = await fn(w, name);
          lines.settle(i, emit ?? (() => undefined));
        } catch (err) {
          lines.settle(i, null);
          throw err;
        }
      }),
    );
    throwFailures(results);
  };
  if (waiter) await run(waiter);
  else await withWaiter(ctx, names, run);
}

async function mustGetUnit(ctx: OperationContext, name: string, what: string): Promise<UnitSummary> {
  const u = await ctx.client.getUnit(name);
  if (!u) throw fail(`unit ${name} was destroyed while waiting for it to ${what}`);
  return u;
}

/** "unit x failed on 113f16a7.../10.0.0.1: why", from the machine's reported failure. */
async function failedOn(ctx: OperationContext, name: string, machineId: string, failure: string, systemd?: string): Promise<FlotillaError> {
  const machine = (await ctx.machines.get(machineId)) ?? { id: machineId };
  return fail(`unit ${name} failed on ${machineFullLegend(machine, false)}: ${failure}${systemd === undefined ? '' : ` (systemd reports ${systemd})`}`);
}

/** "113f16a7.../10.0.0.1: conflicts with b.service; 2b9e0c41...: ..." */
export async function problemSummary(ctx: OperationContext, problem: Unplaced): Promise<string> {
  return summarizeReasons(reasonLines(problem, await ctx.machines.some(problemMachineIds(problem)), false));
}

/**
 * fleet's tryWaitForUnitStates: negative attempts print "Triggered unit <n>
 * <verb>" instead of waiting; otherwise each unit's current state (desired
 * state for global units) must reach `goal`, printing "Unit <n> <state>".
 *
 * A unit the engine cannot place would make fleet wait in silence; here the
 * reason is printed once when waiting without limit, and is part of the
 * timeout message with --block-attempts.
 */
export async function waitForUnitStates(
  ctx: OperationContext,
  names: readonly string[],
  goal: DesiredState,
  attempts: number,
  verb: string,
  opts: WaitOptions & {
    /** Where each unit's "Unit <n> <state>" line goes, in order; printed by default. */
    report?: (name: string, line: string) => void;
  } = {},
): Promise<void> {
  const report = opts.report ?? ((_name: string, line: string) => ctx.sink.out(line));
  if (attempts < 0) {
    for (const name of names) ctx.sink.out(`Triggered unit ${name} ${verb}`);
    return;
  }
  const budget = budgetFor(attempts, ctx.attemptMs);
  await eachUnit(ctx, names, async (w, name) => {
    let problem: string | undefined;
    let told = false;
    const u = await w.until(
      name,
      async () => {
        const u = await mustGetUnit(ctx, name, `report state ${goal}`);
        if ((u.global ? u.desiredState : u.currentState) === goal) {
          // The agent acted on this state and reports it could not carry it out: waiting on would only hang.
          if (u.failure !== undefined && u.machineId !== undefined) throw await failedOn(ctx, name, u.machineId, u.failure);
          return u;
        }
        problem = u.unplaced ? await problemSummary(ctx, u.unplaced) : undefined;
        if (problem !== undefined && budget === undefined && !told) {
          told = true;
          ctx.sink.err(`Unit ${name} cannot be placed yet (${problem}); still waiting, see flotctl why ${name}`);
        }
        return undefined;
      },
      budget,
      () => {
        const why = problem === undefined ? '' : `: no machine can take it (${problem})`;
        return `timed out waiting for unit ${name} to report state ${goal}${why}`;
      },
    );
    const line = await unitStateLine(ctx, u);
    return () => report(name, line);
  }, opts.waiter);
}

/**
 * After `start`: systemd on the unit's machine must report it loaded and
 * active. fleet gave this one 2 s window whatever --block-attempts said; here
 * it gets the whole budget (forever by default), like the first wait. A unit
 * systemd reports "failed", or whose agent reports a failure, fails the wait
 * at once with the reason: systemd will not start it again by itself (a
 * Restart= unit shows "activating" meanwhile), so waiting forever would only
 * hang the command.
 */
export async function waitForSystemdActive(ctx: OperationContext, names: readonly string[], attempts: number, opts: WaitOptions = {}): Promise<void> {
  if (attempts < 0) return;
  const budget = budgetFor(attempts, ctx.attemptMs);
  await eachUnit(ctx, names, async (w, name) => {
    let last = 'no state reported';
    await w.until(
      name,
      async () => {
        const u = await mustGetUnit(ctx, name, 'become active');
        if (!u.machineId) {
          last = 'not scheduled';
          return undefined;
        }
        const machineId = u.machineId;
        const s = (await ctx.client.listUnitStates(name)).find((x) => x.machineId === machineId);
        if (!s) return undefined;
        last = `${s.load}/${s.active}/${s.sub}`;
        // A report about other content (a unit destroyed and created again, a replace) says nothing of this one yet.
        if (s.hash !== '' && s.hash !== u.hash) return undefined;
        if (s.failure !== undefined) throw await failedOn(ctx, name, machineId, s.failure, last);
        if (s.active === 'failed') {
          const machine = (await ctx.machines.get(machineId)) ?? { id: machineId };
          throw fail(`unit ${name} failed on ${machineFullLegend(machine, false)}: systemd reports ${last}`);
        }
        return s.active === 'active' && s.load === 'loaded' ? s : undefined;
      },
      budget,
      () => `timed out waiting for unit ${name} to become active in systemd (last reported: ${last})`,
    );
  }, opts.waiter);
}

/**
 * After `destroy`: every agent has stopped and unloaded the unit (its states
 * are gone). `onDone` runs per unit as it gets there, or at once when not
 * blocking.
 */
export async function waitForStatesGone(
  ctx: OperationContext,
  names: readonly string[],
  attempts: number,
  onDone: (name: string) => void,
): Promise<void> {
  if (attempts < 0) {
    names.forEach(onDone);
    return;
  }
  const budget = budgetFor(attempts, ctx.attemptMs);
  await eachUnit(ctx, names, async (w, name) => {
    let machines: string[] = [];
    await w.until(
      name,
      async () => {
        machines = (await ctx.client.listUnitStates(name)).map((s) => s.machineId);
        return machines.length === 0 ? true : undefined;
      },
      budget,
      () => `timed out waiting for unit ${name} to be unloaded from ${machines.map((m) => machineIdLegend(m, false)).join(', ')}`,
    );
    return () => onDone(name);
  });
}
