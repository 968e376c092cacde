/**
 * The two programs as bundles (esbuild) of the compiled code and its
 * production dependencies: an entry file per program and shared chunks,
 * instead of a 50 MB node_modules. The release is smaller, and Node reads a
 * few files instead of resolving ~100 packages at every flotctl start.
 *
 * What does not survive bundling on its own is handled here, explicitly:
 * - CommonJS dependencies call require() and read __dirname: the ESM banner
 *   gives them both.
 * - etcd3 loads its gRPC definitions from `${__dirname}/../proto/rpc.proto`
 *   at start-up; the path is rewritten to `${__dirname}/proto/rpc.proto` and
 *   the .proto files are shipped there. The build fails if etcd3 changes
 *   that line, rather than shipping a release that cannot reach etcd.
 * - ssh2's and dbus-next's optional native helpers (sshcrypto.node,
 *   cpu-features, usocket) are required inside try/catch and are left out;
 *   both fall back to their JavaScript code, as they do under npm 11 today.
 *   dbus-next requires `x11` only to find a session bus from an X display,
 *   which flotillad never does (it always names its bus).
 *
 * Two formats (issue 12): the programs as ES modules (`<name>.mjs` and
 * `chunk-*.mjs`), and entries that start sooner as ONE CommonJS file each
 * (`<name>.js`, flotctl's main-cjs.ts), which hand what they do not run
 * themselves to the ESM `<name>.mjs`. A package.json in the output directory
 * says `.js` there is CommonJS, wherever the directory is copied to.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import type { BuildOptions, Metafile, Plugin } from 'esbuild';
import { FlotillaError } from '../util/errors.js';

export interface BundleEntry { name: string; entry: string }

const BANNER = [
  "import { createRequire as __flotillaRequire } from 'node:module';",
  "import { fileURLToPath as __flotillaPath } from 'node:url';",
  "import { dirname as __flotillaDir } from 'node:path';",
  'const require = __flotillaRequire(import.meta.url);',
  'const __filename = __flotillaPath(import.meta.url);',
  'const __dirname = __flotillaDir(__filename);',
].join('\n');

/** Required only where we never go (X11 bus discovery) or inside try/catch with a JS fallback. */
const OPTIONAL_NATIVE = ['x11', 'usocket', 'cpu-features', '*.node'];
/** The dev cluster's release builder (flotillad dev --boot from a checkout) is not part of a release. */
const DEV_ONLY = ['esbuild'];

/**
 * A CommonJS entry carries only the code its fast paths run: what that code
 * imports on use (`await import(...)`: etcd3, ssh2, chalk, commander) is not
 * bundled into it but replaced by a module that throws, so a fast-path
 * condition that let such a use through fails loudly (an internal error)
 * instead of silently loading half the CLI from one file.
 */
function onUseImportsLeftOut(): Plugin {
  return {
    name: 'on-use-imports-left-out',
    setup(b) {
      b.onResolve({ filter: /.*/ }, (args) => {
        if (args.kind !== 'dynamic-import') return undefined;
        // Node's own modules cost nothing to bundle: they stay real imports.
        return args.path.startsWith('node:') ? { path: args.path, external: true } : { path: args.path, namespace: 'left-out' };
      });
      b.onLoad({ filter: /.*/, namespace: 'left-out' }, (args) => ({
        contents: `throw new Error(${JSON.stringify(`${args.path} is not in this CommonJS bundle (its fast path should not have needed it)`)});`,
        loader: 'js',
      }));
    },
  };
}

/** import.meta.url in a CommonJS bundle (api-transport's createRequire): this file's URL. */
const CJS_BANNER = '"use strict";' + "var __flotillaMetaUrl = require('node:url').pathToFileURL(__filename).href;";

const ETCD3_PROTO_LINE = '`${__dirname}/../proto/rpc.proto`';

function etcd3Protos(): Plugin {
  return {
    name: 'etcd3-protos',
    setup(b) {
      b.onLoad({ filter: /[\\/]etcd3[\\/]lib[\\/]connection-pool\.js$/ }, async (args) => {
        const text = await readFile(args.path, 'utf8');
        if (!text.includes(ETCD3_PROTO_LINE)) {
          throw new Error(`${args.path} no longer loads ${ETCD3_PROTO_LINE}: update src/release/bundle.ts for this etcd3 version`);
        }
        return { contents: text.replace(ETCD3_PROTO_LINE, '`${__dirname}/proto/rpc.proto`'), loader: 'js' };
      });
    },
  };
}

/**
 * Bundle the entries into `${outDir}/${name}.mjs` in one build, with the code
 * they share and the code they import on use (`await import(...)`) in chunk
 * files beside them: a command then evaluates only what it runs (flotctl
 * version never evaluates etcd3 or ssh2). Chunks sit in `outDir` itself so
 * `__dirname` is the same in every file (etcd3's proto path depends on it).
 * Each of `cjsEntries` becomes `${outDir}/${name}.js`, one CommonJS file
 * without what its code imports on use (see onUseImportsLeftOut).
 * Returns the package dirs that went into any output.
 */
export async function bundle(entries: BundleEntry[], outDir: string, repoRoot: string, cjsEntries: BundleEntry[] = []): Promise<string[]> {
  // Imported on use: a release's own flotillad carries the dev cluster's code but not esbuild.
  const { build } = await import('esbuild');
  const common: BuildOptions = {
    outdir: outDir,
    entryNames: '[name]',
    bundle: true,
    platform: 'node',
    target: 'node20',
    minify: true,
    // Keep class and function names: errors and logs name them.
    keepNames: true,
    legalComments: 'none',
    external: [...OPTIONAL_NATIVE, ...DEV_ONLY],
    metafile: true,
    logLevel: 'silent',
    absWorkingDir: repoRoot,
  };
  const metas: Metafile[] = [];
  const all = [...entries, ...cjsEntries];
  try {
    const esm = await build({
      ...common,
      entryPoints: Object.fromEntries(entries.map((e) => [e.name, e.entry])),
      outExtension: { '.js': '.mjs' },
      chunkNames: 'chunk-[hash]',
      splitting: true,
      format: 'esm',
      banner: { js: BANNER },
      plugins: [etcd3Protos()],
    });
    metas.push(esm.metafile as Metafile); // metafile: true
    if (cjsEntries.length > 0) {
      const cjs = await build({
        ...common,
        entryPoints: Object.fromEntries(cjsEntries.map((e) => [e.name, e.entry])),
        format: 'cjs',
        banner: { js: CJS_BANNER },
        define: { 'import.meta.url': '__flotillaMetaUrl' },
        plugins: [onUseImportsLeftOut()],
      });
      metas.push(cjs.metafile as Metafile);
    }
  } catch (err) {
    const first = (err as { errors?: Array<{ text: string; location?: { file: string; line: number } | null }> }).errors?.[0];
    const where = first?.location ? ` at ${first.location.file}:${first.location.line}` : '';
    throw new FlotillaError(`bundling ${all.map((e) => e.entry).join(', ')} failed: ${first ? `${first.text}${where}` : (err as Error).message.split('\n')[0]}`);
  }
  // `.js` here is the CommonJS entries; everything ESM is `.mjs`, whatever package.json is above.
  await writeFile(join(outDir, 'package.json'), '{"type":"commonjs"}\n');
  const packages = new Set<string>();
  for (const input of metas.flatMap((m) => Object.keys(m.inputs))) {
    const pkg = packageDirOf(input);
    if (pkg) packages.add(join(repoRoot, pkg));
  }
  return [...packages].sort();
}

/** "node_modules/@grpc/grpc-js/build/src/x.js" -> "node_modules/@grpc/grpc-js". */
function packageDirOf(input: string): string | undefined {
  const parts = input.split(/[\\/]/);
  const at = parts.lastIndexOf('node_modules');
  if (at < 0) return undefined;
  const scoped = parts[at + 1]?.startsWith('@');
  return parts.slice(0, at + (scoped ? 3 : 2)).join(sep);
}

/** Where the bundled etcd3 looks for rpc.proto and what it imports. */
export function etcd3ProtoDir(repoRoot: string): string {
  return join(repoRoot, 'node_modules', 'etcd3', 'proto');
}

export function describePackage(repoRoot: string, dir: string): string {
  return relative(join(repoRoot, 'node_modules'), dir) || dirname(dir);
}
