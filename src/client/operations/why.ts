/**
 * why: where a unit is, or why it is nowhere. Answers from what the cluster
 * already recorded (assignments, states, the engine's unplaced reports); it
 * never triggers a placement round itself.
 */
import { mangleUnitName } from '../../unit/index.js';
import { machineFullLegend } from '../legend.js';
import { type ReasonLine, formatReasonLine, problemMachineIds, reasonLines } from '../reasons.js';
import type { DesiredState, UnitStateView, UnitSummary } from '../types.js';
import type { OperationContext } from './context.js';
import { fail } from './errors.js';

export interface MachineRef {
  machineId: string;
  legend: string;
  /** "loaded/active/running", when the machine has reported the unit. */
  systemd?: string;
  /** Why the machine's agent could not carry the unit out, or its start job failed (the state's failure). */
  failure?: string;
}

interface Base {
  unit: string;
  desired: DesiredState;
  global: boolean;
}

export type Explanation =
  | (Base & { status: 'inactive' })
  | (Base & { status: 'placed'; current: DesiredState; machines: MachineRef[] })
  | (Base & { status: 'unplaced'; at: string; reasons: ReasonLine[] })
  /** Wants a machine; the engine has not reported a problem (yet). */
  | (Base & { status: 'pending' });

const systemd = (s: UnitStateView): string => `${s.load}/${s.active}/${s.sub}`;

export async function explainUnit(ctx: OperationContext, args: readonly string[], opts: { full?: boolean } = {}): Promise<Explanation> {
  if (args.length !== 1) throw fail('One unit must be provided');
  const name = mangleUnitName(args[0] as string);
  const u = await ctx.client.getUnit(name);
  if (!u) throw fail(`Unit ${name} not found`);
  const base: Base = { unit: u.name, desired: u.desiredState, global: u.global };
  if (u.desiredState === 'inactive') return { ...base, status: 'inactive' };
  const full = opts.full ?? false;
  if (u.unplaced) {
    const machines = await ctx.machines.some(problemMachineIds(u.unplaced));
    return { ...base, status: 'unplaced', at: u.unplaced.at, reasons: reasonLines(u.unplaced, machines, full) };
  }
  const states = await ctx.client.listUnitStates(u.name);
  const on = u.global ? states.map((s) => s.machineId) : u.machineId ? [u.machineId] : [];
  if (on.length === 0) return { ...base, status: 'pending' };
  const known = await ctx.machines.some(on);
  const machines = on.map((id): MachineRef => {
    const ref: MachineRef = { machineId: id, legend: machineFullLegend(known.get(id) ?? { id }, full) };
    const s = states.find((x) => x.machineId === id);
    if (s) ref.systemd = systemd(s);
    if (s?.failure !== undefined) ref.failure = s.failure;
    return ref;
  });
  return { ...base, status: 'placed', current: currentOf(u), machines };
}

function currentOf(u: UnitSummary): DesiredState {
  return u.global ? u.desiredState : u.currentState;
}

/** The text form: a headline, then one indented line per machine. */
export function explanationLines(e: Explanation): string[] {
  const what = e.global ? `Global unit ${e.unit}` : `Unit ${e.unit}`;
  switch (e.status) {
    case 'inactive':
      return [`${what} is inactive: it is not scheduled anywhere (load or start it to place it)`];
    case 'pending':
      return [`${what} is waiting for a machine (desired ${e.desired}); the engine has not reported a problem placing it`];
    case 'unplaced':
      return [
        `${what} cannot be placed (desired ${e.desired}); reasons from the engine's round at ${e.at}:`,
        ...e.reasons.map((r) => `  ${formatReasonLine(r)}`),
      ];
    case 'placed': {
      const states = (m: MachineRef): string => (m.systemd ? `, systemd ${m.systemd}` : '');
      if (!e.global) {
        const m = e.machines[0] as MachineRef;
        const failed = m.failure === undefined ? '' : ` but failed there: ${m.failure}`;
        return [`${what} is placed on ${m.legend}${failed} (desired ${e.desired}, current ${e.current}${states(m)})`];
      }
      const n = e.machines.length;
      return [
        `${what} (desired ${e.desired}) is on ${n} machine${n === 1 ? '' : 's'}:`,
        ...e.machines.map((m) => `  ${m.legend}${m.systemd ? `: systemd ${m.systemd}` : ''}${m.failure === undefined ? '' : `, failed: ${m.failure}`}`),
      ];
    }
  }
}
