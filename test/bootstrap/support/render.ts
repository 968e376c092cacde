/** Rendering bootstraps in tests: through the built flotillad (as users run it) or the library. */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { resolveInputs, type RawInputs } from '../../../src/bootstrap/inputs.js';
import { renderBootstrap, type Format } from '../../../src/bootstrap/render.js';

export const REPO = fileURLToPath(new URL('../../../../', import.meta.url));
export const FLOTILLAD = `${REPO}dist/src/daemon/main.js`;
export const CLOUD_CONFIG = `${REPO}cloud-config/`;
export const EXAMPLE_INPUTS = `${CLOUD_CONFIG}example-inputs.yaml`;

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

export function run(cmd: string, args: string[], opts: { input?: string; env?: NodeJS.ProcessEnv } = {}): Promise<Run> {
  return new Promise((resolve) => {
    const child = execFile(cmd, args, { env: opts.env ?? process.env, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : 1) : 0;
      resolve({ code, stdout, stderr });
    });
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}

export function flotillad(args: string[]): Promise<Run> {
  return run(process.execPath, [FLOTILLAD, ...args]);
}

/** A checksum-shaped value for renders whose release is never fetched. */
export const SOME_SHA = 'ab'.repeat(32);

export const BASE: RawInputs = {
  etcd_servers: 'http://127.0.0.1:2379',
  release_url: 'http://127.0.0.1:8080/flotilla-0.1.0-linux-x64.tar.gz',
  release_sha256: SOME_SHA,
};

export function render(format: Format, raw: RawInputs): string {
  return renderBootstrap(format, resolveInputs(raw, { readFile: (p) => readFileSync(p, 'utf8'), baseDir: process.cwd() }));
}
