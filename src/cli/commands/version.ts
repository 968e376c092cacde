/** version, and verify (fleet's deprecated signing check, kept for its exit code). */
import type { Command } from 'commander';
import { DeprecatedFeatureError } from '../../util/errors.js';
import { SIGN_DEPRECATED } from './units.js';
import type { Session } from '../session.js';
import { versionLine } from '../version-line.js';

export function registerVersion(program: Command, session: Session): void {
  program
    .command('version')
    .description('print the version and exit')
    .action(() => {
      session.output.out(versionLine());
    });

  program
    .command('verify', { hidden: true })
    .argument('[unit...]')
    .action(() => {
      throw new DeprecatedFeatureError(SIGN_DEPRECATED);
    });
}
