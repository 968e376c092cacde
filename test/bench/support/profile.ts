/** A CPU profile (Chrome DevTools format) of this process, from start until stop. */
import { writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector';

export interface Profile {
  stop(file: string): Promise<void>;
}

export async function startProfile(samplingMicros = 1000): Promise<Profile> {
  const session = new Session();
  session.connect();
  const post = (method: string, params: object = {}) =>
    new Promise<unknown>((resolve, reject) => session.post(method, params, (err, res) => (err ? reject(err) : resolve(res))));
  await post('Profiler.enable');
  await post('Profiler.setSamplingInterval', { interval: samplingMicros });
  await post('Profiler.start');
  return {
    async stop(file) {
      const { profile } = (await post('Profiler.stop')) as { profile: object };
      await writeFile(file, JSON.stringify(profile));
      session.disconnect();
    },
  };
}
