/**
 * /fleet/v1: fleet's API v1 with fleet's bodies, status codes, messages and
 * pagination, so fleet's clients work unchanged. Built on ClusterClient.
 *
 * fleet quirks fixed here (fleet-behaviour.md §8, §13.6), everything else as fleet:
 * 1. PUT: desiredState is validated on every path (fleet wrote any string to
 *    etcd on update and answered 500 on create): 400 naming the three states.
 * 2. PUT: a template cannot be activated on create either (fleet checked only
 *    on update): 400 `cannot activate template "x"`, nothing written.
 * 3. currentState of a global unit is the same in lists and on GET of the
 *    unit (fleet: "inactive" in lists, absent on the item).
 * 4. PATCH /machines takes a metadata value as `{"value": "..."}` (fleetd's
 *    code) or a plain string (fleet's documentation); every operation is
 *    checked before any is applied, and one machine's operations are applied
 *    together.
 * 5. Bodies are strict: unknown fields, wrong types, more than 1 MiB (413),
 *    nesting over 16 levels or no JSON at all are each one 4xx; Go's decoder
 *    ignored unknown fields.
 * 6. A PUT create is validated with the same rules as flotctl submit
 *    (names, limits, [X-Fleet] options), not a subset.
 * 7. Wrong methods are 405 with an Allow header everywhere, discovery too
 *    (fleet answered 400 there); unknown paths, `/` and `/fleet/v1` itself
 *    are 404 (fleet: 405 for the latter two); fleet's older `/v1-alpha`
 *    mount is not served.
 * 8. 503 carries a Retry-After and says which store is unreachable.
 * 9. Authentication: see the listeners (TLS client certificates off loopback).
 */
import { UnitFile, parseUnitName, validateUnit, validateUnitName } from '../unit/index.js';
import { readJsonBody } from './body.js';
import type { ApiContext } from './context.js';
import { fleetMachine, fleetPage, fleetUnit, fleetUnitState } from './entities.js';
import { ApiError } from './errors.js';
import { pageRequest, paginate } from './pagination.js';
import { json, type Reply, type Request, type Router } from './router.js';
import { parseMetadataOps, parseUnitBody } from './schema.js';
import { applyMetadataOps } from './metadata-ops.js';
import { fleetDiscovery } from './discovery.js';

export const FLEET_BASE = '/fleet/v1';

const ok = (body: unknown): Reply => ({ status: 200, body });

export function addFleetRoutes(router: Router, ctx: ApiContext): void {
  const b = FLEET_BASE;
  router.add(`${b}/units`, { GET: json((r) => listUnits(ctx, r)) }, 'only GET supported against this resource');
  router.add(`${b}/units/:name`, {
    GET: json((r) => getUnit(ctx, r.params.name!)),
    PUT: json((r) => putUnit(ctx, r)),
    DELETE: json((r) => deleteUnit(ctx, r.params.name!)),
  }, 'only GET, PUT and DELETE supported against this resource');
  router.add(`${b}/state`, { GET: json((r) => listStates(ctx, r)) }, 'only GET supported against this resource');
  router.add(`${b}/state/:name`, { GET: json((r) => getState(ctx, r.params.name!)) }, 'only GET supported against this resource');
  router.add(`${b}/machines`, { GET: json((r) => listMachines(ctx, r)), PATCH: json((r) => patchMachines(ctx, r)) }, 'only GET and PATCH supported against this resource');
  router.add(`${b}/discovery`, { GET: json(async () => ok(fleetDiscovery())) }, 'only GET supported against this resource');
}

async function listUnits(ctx: ApiContext, r: Request): Promise<Reply> {
  const page = pageRequest(r.query, ctx.tokenLimit);
  const [units, files] = await Promise.all([ctx.client.listUnits(), ctx.client.listUnitFiles()]);
  const options = new Map(files.map((f) => [f.name, f.file.options]));
  const p = paginate(units, page);
  return ok(fleetPage('units', p.items.map((u) => fleetUnit(u, options.get(u.name))), p.nextPageToken));
}

async function getUnit(ctx: ApiContext, name: string): Promise<Reply> {
  const [u, file] = await Promise.all([ctx.client.getUnit(name), ctx.client.getUnitFile(name)]);
  if (!u) throw new ApiError(404, 'unit does not exist');
  return ok(fleetUnit(u, file?.options));
}

/** fleet's unitsResource.set, with the checks of quirks 1, 2 and 6. */
async function putUnit(ctx: ApiContext, r: Request): Promise<Reply> {
  const name = r.params.name!;
  const body = parseUnitBody(await readJsonBody(r.raw));
  if (body.name !== undefined && body.name !== name) {
    throw new ApiError(400, `name in URL ${JSON.stringify(name)} differs from unit name in request body ${JSON.stringify(body.name)}`);
  }
  validateUnitName(name);
  const existing = await ctx.client.getUnit(name);
  const desired = body.desiredState;
  if (desired !== undefined && desired !== 'inactive' && parseUnitName(name).isTemplate) {
    throw new ApiError(400, `cannot activate template ${JSON.stringify(name)}`);
  }
  if (body.options) {
    const file = UnitFile.fromOptions(body.options);
    if (!existing || existing.hash !== file.hash()) {
      validateUnit(file, name);
      // One write; without desiredState fleet's default for a create, 'inactive'.
      await ctx.client.createUnit(name, file, desired ?? 'inactive');
      return { status: 201 };
    }
  } else if (!existing) {
    throw new ApiError(409, 'unit does not exist and options field empty');
  }
  if (desired === undefined) throw new ApiError(409, 'must provide DesiredState to update existing unit');
  if (!(await ctx.client.setDesiredState(name, desired))) throw new ApiError(404, 'unit does not exist');
  return { status: 204 };
}

async function deleteUnit(ctx: ApiContext, name: string): Promise<Reply> {
  if (!(await ctx.client.destroyUnit(name))) throw new ApiError(404, 'unit does not exist');
  return { status: 204 };
}

async function listStates(ctx: ApiContext, r: Request): Promise<Reply> {
  const page = pageRequest(r.query, ctx.tokenLimit);
  // fleet's filters: the first value of each counts.
  const unit = r.query.get('unitName') ?? undefined;
  const machine = r.query.get('machineID') ?? undefined;
  const states = (await ctx.client.listUnitStates(unit || undefined)).filter((s) => !machine || s.machineId === machine);
  const p = paginate(states, page);
  return ok(fleetPage('states', p.items.map(fleetUnitState), p.nextPageToken));
}

async function getState(ctx: ApiContext, name: string): Promise<Reply> {
  const first = (await ctx.client.listUnitStates(name))[0];
  if (!first) throw new ApiError(404, 'unit state does not exist');
  return ok(fleetUnitState(first));
}

async function listMachines(ctx: ApiContext, r: Request): Promise<Reply> {
  const page = pageRequest(r.query, ctx.tokenLimit);
  const p = paginate(await ctx.client.listMachines(), page);
  return ok(fleetPage('machines', p.items.map(fleetMachine), p.nextPageToken));
}

async function patchMachines(ctx: ApiContext, r: Request): Promise<Reply> {
  await applyMetadataOps(ctx, parseMetadataOps(await readJsonBody(r.raw)));
  return { status: 204 };
}
