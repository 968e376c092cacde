/** why: where a unit runs, or why no machine runs it (not in fleet). */
import type { Command } from 'commander';
import type { Session } from '../session.js';

export function registerWhy(program: Command, session: Session): void {
  program
    .command('why')
    .description('explain where a unit is placed, or why no machine takes it (one line per machine)')
    .argument('[unit]', 'unit name')
    .option('-l, --full', 'do not abbreviate machine ids')
    .addHelpText(
      'after',
      '\nExits 0 whenever it can answer: placed, inactive, waiting for the engine, or not placeable.\n' +
        'With --json prints the same answer as an object.',
    )
    .action(async (unit: string | undefined, opts: Record<string, unknown>) => {
      const { explainUnit, explanationLines } = await import('../../client/operations/index.js');
      const e = await explainUnit(await session.operations(), unit === undefined ? [] : [unit], { full: opts.full === true });
      if (session.globals.json) session.output.json(e);
      else for (const line of explanationLines(e)) session.output.out(line);
    });
}
