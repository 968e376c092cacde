/**
 * The engine's fencing token and what a fenced write can fail with. The
 * writes themselves are the engine store's (src/registry/engine-store.ts):
 * every engine write is a transaction conditioned on the election key still
 * existing at the revision the engine was elected with.
 */
export { PreconditionFailed, type Fence } from '../registry/engine-store.js';
