/**
 * /flotilla/v1 for the source commands (flotctl's API driver). The daemon
 * plans and writes (StoreSourceClient, the code the etcd driver runs in
 * flotctl): callers send what they read (a directory's entries and origin,
 * a pull source's flags), never store writes.
 *
 * GET    /flotilla/v1/sources                 {sources:[SourceView]}
 * POST   /flotilla/v1/sources                 {name, url, prune, branch?, path?, interval?}: 201 SourceRecord | 412 name taken
 * DELETE /flotilla/v1/sources/:name[?prune=true]  {destroyed, released} | 412 no such source
 * GET    /flotilla/v1/sources/:name/rollout   RolloutRecord | 404
 * GET    /flotilla/v1/inventory               {inventory:[InventoryRecord]}
 * POST   /flotilla/v1/diff                    {manifest}: DiffReport
 * POST   /flotilla/v1/sync                    {manifest, rollout}: AppliedSync | 412 the cluster changed meanwhile
 *
 * 412 carries a failure of what was asked (flotctl's exit 1: a name taken,
 * a sync raced); bad bodies and plans refused (PlanError, TreeError) are 400.
 */
import type { SourceClient } from '../client/sources/source-client.js';
import { FlotillaError, InvalidInputError, SshError, StoreUnavailableError, UsageError } from '../util/errors.js';
import { PlanError } from '../gitops/sync-plan.js';
import { TreeError } from '../gitops/desired-state.js';
import { readJsonBody } from './body.js';
import { ApiError } from './errors.js';
import { json, type Reply, type Router } from './router.js';
import { SYNC_BODY_MAX_BYTES, parseAddSourceBody, parseDiffBody, parseSyncBody } from './source-schema.js';

const ok = (body: unknown): Reply => ({ status: 200, body });

/** A failure of what was asked (flotctl's exit 1), not a bad body, an outage, a usage or an ssh error. */
function failedWhatWasAsked(err: unknown): err is FlotillaError {
  if (!(err instanceof FlotillaError)) return false;
  return !(err instanceof ApiError || err instanceof InvalidInputError || err instanceof StoreUnavailableError || err instanceof UsageError || err instanceof SshError);
}

async function failures<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (failedWhatWasAsked(err)) {
      throw new ApiError(412, err.message.split('\n')[0] ?? err.message);
    }
    throw err;
  }
}

/**
 * A refused plan or tree keeps every reason, one per line, as the etcd
 * driver prints them: mapError cuts other 400s to their first line, which
 * hid all but the first of a sync's conflicts. (flotctl parses the tree
 * before it sends it; the daemon's TreeError is for other callers.)
 */
async function allReasons<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (err instanceof PlanError || err instanceof TreeError) throw new ApiError(400, err.message);
    throw err;
  }
}

export function addSourceRoutes(router: Router, base: string, sources: SourceClient): void {
  router.add(`${base}/sources`, {
    GET: json(async () => ok({ sources: await sources.listSources() })),
    POST: json(async (r) => {
      const o = parseAddSourceBody(await readJsonBody(r.raw));
      return { status: 201, body: await failures(() => sources.addSource(o)) };
    }),
  });
  router.add(`${base}/sources/:name`, {
    DELETE: json(async (r) => {
      const prune = r.query.get('prune');
      if (prune !== null && prune !== 'true' && prune !== 'false') throw new ApiError(400, 'prune must be true or false');
      return ok(await failures(() => sources.removeSource(r.params.name!, prune === 'true')));
    }),
  });
  router.add(`${base}/sources/:name/rollout`, {
    GET: json(async (r) => {
      const rec = await sources.rolloutRecord(r.params.name!);
      if (!rec) throw new ApiError(404, 'no rollout record for this source');
      return ok(rec);
    }),
  });
  router.add(`${base}/inventory`, { GET: json(async () => ok({ inventory: await sources.listInventory() })) });
  router.add(`${base}/diff`, { POST: json(async (r) => ok(await allReasons(async () => sources.diff(parseDiffBody(await readJsonBody(r.raw, SYNC_BODY_MAX_BYTES)))))) });
  router.add(`${base}/sync`, {
    POST: json(async (r) => {
      const b = parseSyncBody(await readJsonBody(r.raw, SYNC_BODY_MAX_BYTES));
      return ok(await allReasons(() => failures(() => sources.sync(b.manifest, b.rollout))));
    }),
  });
}
