/** flotillad run as the daemon leaves its subcommands' modules unloaded; any other invocation builds the whole program. */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { isDaemonRun } from '../../src/daemon/daemon-args.js';

const MAIN = fileURLToPath(new URL('../../src/daemon/main.js', import.meta.url));
/** Preloaded: a module resolve hook that names every module flotillad loads, on stderr. */
const TRACE = `data:text/javascript,${encodeURIComponent(
  "import { register } from 'node:module'; register('data:text/javascript,' + encodeURIComponent('export async function resolve(s, c, next) { const r = await next(s, c); process.stderr.write(\"loaded \" + r.url + \"\\\\n\"); return r; }'));",
)}`;

function loadedBy(args: readonly string[]): Promise<{ code: number; loaded: string[]; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', TRACE, MAIN, ...args], { timeout: 20_000 }, (err, _stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1;
      const loaded = stderr.split('\n').filter((l) => l.startsWith('loaded ')).map((l) => l.slice('loaded '.length));
      resolve({ code, loaded, stderr: stderr.split('\n').filter((l) => !l.startsWith('loaded ')).join('\n') });
    });
  });
}

const subcommandModules = (loaded: string[]) => loaded.filter((u) => u.endsWith('/dev/command.js') || u.endsWith('/daemon/bootstrap-command.js'));

describe('flotillad arguments', () => {
  it('takes only --config FILE (or none) for the daemon itself', () => {
    assert.equal(isDaemonRun([]), true);
    assert.equal(isDaemonRun(['--config', '/etc/flotilla/flotillad.conf']), true);
    assert.equal(isDaemonRun(['--config=/etc/flotilla/flotillad.conf']), true);
    for (const args of [['dev'], ['bootstrap-config', '--format', 'ignition'], ['--help'], ['-v'], ['--config'], ['--config', '-v'], ['--config', 'f', 'dev'], ['bogus']]) {
      assert.equal(isDaemonRun(args), false, args.join(' '));
    }
  });

  it('does not load the dev and bootstrap-config modules to run the daemon, and does for help', async () => {
    const daemon = await loadedBy(['--config', '/nonexistent/flotillad.conf']);
    // The daemon got as far as reading its config: the same failure as before, without the subcommands.
    assert.equal(daemon.code, 1, daemon.stderr);
    assert.match(daemon.stderr, /config file \/nonexistent\/flotillad.conf cannot be read/);
    assert.ok(daemon.loaded.some((u) => u.endsWith('/daemon/flotillad.js')), 'the trace sees flotillad.js load');
    assert.deepEqual(subcommandModules(daemon.loaded), []);
    const help = await loadedBy(['--help']);
    assert.equal(help.code, 0, help.stderr);
    assert.equal(subcommandModules(help.loaded).length, 2);
  });
});
