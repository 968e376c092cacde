#!/usr/bin/env node
/**
 * The flotctl users run (package.json "bin", a release's lib/flotctl.js):
 * bundled as ONE CommonJS file, because Node 20 starts a CommonJS entry ~8 ms
 * sooner than an ES module one and has no compile cache, and list-units and
 * list-machines must finish within 2x a bare `node -e 0` (issue 12). It
 * answers what needs nothing loaded on demand: version, help to a pipe, and
 * the list commands' fast path when standaloneList allows (API driver, no
 * tunnel, no colour). Every other invocation is handed to the ESM bundle's
 * main (flotctl.mjs beside this file, main.ts), which answers as before.
 *
 * Only meaningful bundled (src/release/bundle.ts): __dirname is CommonJS's;
 * the compiled dist/src/cli/main.js is the unbundled entry.
 */
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { fastAnswer, printAnswer } from './fast-answer.js';
import { runList, standaloneList } from './list-fast.js';
import { runProcess } from './process.js';

/** The ESM bundle's entry, beside this file: bundle.ts names ESM outputs <entry name>.mjs. */
const ESM_MAIN = 'flotctl.mjs';

const argv = process.argv.slice(2);
const answer = fastAnswer(argv, __dirname, process.stdout.isTTY === true);
const list = answer === undefined ? standaloneList(argv, process.env, process) : undefined;
if (answer !== undefined) printAnswer(answer);
else if (list) void runProcess(argv, (args, env, output) => runList(list.req, args, env, output, list.globals));
else {
  import(pathToFileURL(join(__dirname, ESM_MAIN)).href).catch((err: unknown) => {
    // The rest of flotctl is missing or broken beside this file: one line, not a stack trace.
    process.stderr.write(`flotctl: cannot load ${join(__dirname, ESM_MAIN)}: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}; reinstall flotctl\n`);
    process.exit(1);
  });
}
