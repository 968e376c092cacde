/**
 * set-metadata: dynamic machine metadata (fleet had it only in its HTTP API).
 * Sets and removals of one command are applied together or not at all.
 */
import type { Command } from 'commander';
import { machineIdLegend } from '../../client/legend.js';
import { parseMetadataAssignment } from '../../client/metadata.js';
import { InvalidInputError, UsageError } from '../../util/errors.js';
import type { Session } from '../session.js';

const HELP = `
Examples:
  flotctl set-metadata 113f16a7 disk=ssd rack=r12    set two keys on the machine whose id starts with 113f16a7
  flotctl set-metadata --remove rack 113f16a7        remove a key (also hides the key if the machine's config sets it)
  flotctl set-metadata 113f16a7 disk=hdd --remove rack

MACHINE is a machine id, a unique prefix of one, or the "113f16a7..." form list-machines prints.
A full id is accepted for a machine that is not in the cluster now; the metadata applies when it joins.
Dynamic metadata overrides the machine's config metadata and survives the machine leaving.
Keys: letters, digits, "_", "." and "-". Values: not empty, no "=", "," or '"'.`;

const USAGE = 'flotctl set-metadata MACHINE KEY=VALUE... or flotctl set-metadata --remove KEY MACHINE';

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

export function registerSetMetadata(program: Command, session: Session): void {
  program
    .command('set-metadata')
    .description('set or remove dynamic metadata of a machine')
    .argument('[machine]', 'machine id or unique prefix')
    .argument('[key=value...]', 'metadata to set')
    .option('--remove <key>', 'remove KEY (repeatable)', collect)
    .addHelpText('after', HELP)
    .action(async (machine: string | undefined, pairs: string[], opts: Record<string, unknown>) => {
      if (machine === undefined) throw new UsageError(`set-metadata needs a machine: ${USAGE}`);
      if (machine.includes('=')) throw new UsageError(`the machine comes before the metadata: ${USAGE}`);
      const remove = Array.isArray(opts.remove) ? (opts.remove as string[]) : [];
      const set: Record<string, string> = {};
      for (const pair of pairs) {
        const [k, v] = parseMetadataAssignment(pair);
        if (Object.hasOwn(set, k)) throw new InvalidInputError(`metadata key ${JSON.stringify(k)} is given twice: keep one ${k}=VALUE`);
        Object.defineProperty(set, k, { value: v, enumerable: true, writable: true, configurable: true });
      }
      const client = await session.cluster();
      const r = await client.updateMachineMetadata(machine, { set, remove });
      const legend = machineIdLegend(r.machineId, false);
      if (!r.registered) session.output.err(`WARNING: machine ${r.machineId} is not in the cluster now; its metadata applies when it joins`);
      for (const [k, v] of Object.entries(set)) session.output.out(`Set metadata ${k}=${v} on machine ${legend}`);
      for (const k of new Set(remove)) session.output.out(`Removed metadata ${k} from machine ${legend}`);
    });
}
