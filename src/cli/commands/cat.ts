/** cat: print a unit file as stored in the cluster. */
import type { Command } from 'commander';
import type { Session } from '../session.js';

export function registerCat(program: Command, session: Session): void {
  program
    .command('cat')
    .description('print the contents of a unit in the cluster')
    .argument('[unit...]', 'unit name')
    .action(async (units: string[]) => {
      // Serialized unit files already end in a newline; fleet adds none.
      const { catUnit } = await import('../../client/operations/index.js');
      session.output.storedFile(await catUnit(await session.operations(), units), `unit file ${units[0] ?? ''}`);
    });
}
