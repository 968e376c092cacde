/** Moved to src/util so libraries below the client (src/gitops) share it. */
export { mapLimit, settleLimit } from '../../util/concurrency.js';
