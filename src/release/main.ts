/** `npm run release`: build the release and say what it is. */
import { errorMessage } from '../util/errors.js';
import { buildRelease } from './build.js';

async function main(): Promise<void> {
  const t0 = Date.now();
  const r = await buildRelease();
  const mb = (r.bytes / 1e6).toFixed(1);
  process.stdout.write(`${r.tarball} (${mb} MB, ${((Date.now() - t0) / 1000).toFixed(1)} s)\n${r.sha256File}: ${r.sha256}\n`);
  process.stdout.write(`host needs glibc >= ${r.needs.glibc}, libstdc++ GLIBCXX_${r.needs.glibcxx}, libraries ${r.needs.libraries.join(' ')}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`release: ${errorMessage(err).split('\n')[0]}\n`);
  process.exit(1);
});
