#!/usr/bin/env node
/**
 * The flotctl program as an ES module: the unbundled compiled code's entry
 * (dist/src/cli/main.js) and the ESM bundle's (flotctl.mjs), which the
 * CommonJS entry users run (main-cjs.ts) hands every invocation to that it
 * does not answer itself. `flotctl version` and help to a pipe are answered
 * here too, before anything else is loaded (Node 20 has no module compile
 * cache: every module a start evaluates is paid for on every run); every
 * other invocation loads the CLI.
 */
import { fileURLToPath } from 'node:url';
import { fastAnswer, printAnswer } from './fast-answer.js';

const argv = process.argv.slice(2);
const answer = fastAnswer(argv, fileURLToPath(new URL('.', import.meta.url)), process.stdout.isTTY === true);
if (answer !== undefined) printAnswer(answer);
else void import('./process.js').then((cli) => cli.runProcess(argv));
