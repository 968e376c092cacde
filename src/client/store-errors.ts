/**
 * The store errors the client's callers may see. etcd's own errors never
 * reach the client: its store (src/registry/client-store.ts) turns them into
 * these, so the CLI prints "cluster store unreachable at URL: reason" and
 * exits 3, or names the setting to fix and exits 1, instead of a gRPC stack.
 */
export { StoreRefusedError, StoreUnavailableError, StoreUnreachableError } from '../util/errors.js';
