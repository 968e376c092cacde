/**
 * For inputs that made code run away (catastrophic backtracking, quadratic
 * scans): the call runs in a worker thread, so a runaway call can be stopped
 * (it would block this thread's event loop, and with it any test timeout).
 * The deadline is a liveness check, far above what the fixed code takes
 * (microseconds to milliseconds); it is not a timing assertion.
 */
import { Worker } from 'node:worker_threads';

const RUNNER = `
const { workerData, parentPort } = require('node:worker_threads');
import(workerData.url).then(
  (m) => parentPort.postMessage({ value: m[workerData.name](...workerData.args) }),
  (err) => parentPort.postMessage({ error: String(err) }),
).catch((err) => parentPort.postMessage({ error: String(err && err.message || err) }));
`;

/** Calls export `name` of the module at `url` with `args` (structured-cloneable); its result, or throws if it ran past the deadline. */
export async function callWithDeadline<T>(url: URL, name: string, args: readonly unknown[], deadlineMs = 30_000): Promise<T> {
  const worker = new Worker(RUNNER, { eval: true, workerData: { url: url.href, name, args } });
  let timer: NodeJS.Timeout | undefined;
  try {
    return await new Promise<T>((resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`${name} did not return within ${deadlineMs} ms: it runs away on this input`)), deadlineMs);
      worker.once('message', (m: { value?: T; error?: string }) => (m.error !== undefined ? reject(new Error(m.error)) : resolve(m.value as T)));
      worker.once('error', reject);
    });
  } finally {
    clearTimeout(timer);
    await worker.terminate();
  }
}
