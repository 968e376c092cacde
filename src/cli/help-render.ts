/**
 * flotctl's help texts rendered at build time by the real program (one source
 * of truth: commander's own output through runCli), for fast-answer.ts to print
 * without loading commander. Rendered as for a pipe (commander: width 80, no
 * colour), which is the only case fast-answer.ts uses them for.
 */
import { Output, textStream } from './output.js';
import { buildProgram, runCli } from './program.js';

const sink = textStream;

/** What `flotctl ...args` prints to stdout, with its exit code. */
export async function helpOutput(args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = sink();
  const stderr = sink();
  const output = new Output({ stdout, stderr, env: {} });
  const code = await runCli(args, {}, output);
  await output.flush();
  return { code, stdout: stdout.text, stderr: stderr.text };
}

/** '' (flotctl's help) and every command's, keyed as helpKey() keys them. */
export async function renderHelpTexts(): Promise<Record<string, string>> {
  const names = buildProgram(new Output({ stdout: sink(), stderr: sink(), env: {} }), {}).program.commands.map((c) => c.name());
  const texts: Record<string, string> = {};
  for (const key of ['', ...names]) {
    const r = await helpOutput(key === '' ? ['help'] : ['help', key]);
    if (r.code !== 0 || r.stderr !== '') throw new Error(`flotctl help ${key} failed (${r.code}): ${r.stderr}`);
    texts[key] = r.stdout;
  }
  return texts;
}
