/**
 * /flotilla/v1: what Flotilla knows beyond fleet's schema (unplaced and
 * failure reasons, provenance of synced units, ssh port and scope of
 * machines), and the writes flotctl's API driver makes. Lists are whole (no
 * pages): flotctl shows them whole. Same error body as /fleet/v1.
 *
 * GET    /flotilla/v1/info                 {api:"flotilla", version}: how a client knows it reached this API
 * GET    /flotilla/v1/units                {units:[FlotillaUnit]}
 * GET    /flotilla/v1/units/:name          FlotillaUnit | 404
 * PUT    /flotilla/v1/units/:name          {options, desiredState?}: create or replace, 201
 * PATCH  /flotilla/v1/units/:name          {desiredState}: 204 | 404
 * DELETE /flotilla/v1/units/:name          204 | 404
 * GET    /flotilla/v1/units/:name/file     {name, hash, options} | 404
 * GET    /flotilla/v1/unit-files           {unitFiles:[{name, hash, options}]}
 * GET    /flotilla/v1/states[?unit=NAME]   {states:[UnitStateView]}
 * GET    /flotilla/v1/machines             {machines:[FlotillaMachine]}
 * PATCH  /flotilla/v1/machines/:id         [{op, path:"/metadata/<key>", value}]: {machineId, registered}
 */
import { UnitFile, parseUnitName, validateUnit, validateUnitName } from '../unit/index.js';
import { VERSION } from '../util/version.js';
import { readJsonBody } from './body.js';
import type { ApiContext } from './context.js';
import { flotillaMachine, flotillaUnit } from './entities.js';
import { ApiError } from './errors.js';
import { applyMetadataOps } from './metadata-ops.js';
import { json, type Reply, type Request, type Router } from './router.js';
import { parseFlotillaUnitBody, parseMetadataOps } from './schema.js';
import { addSourceRoutes } from './source-routes.js';

export const FLOTILLA_BASE = '/flotilla/v1';
export const API_NAME = 'flotilla';

const ok = (body: unknown): Reply => ({ status: 200, body });

export function addFlotillaRoutes(router: Router, ctx: ApiContext): void {
  const b = FLOTILLA_BASE;
  router.add(`${b}/info`, { GET: json(async () => ok({ api: API_NAME, version: VERSION })) });
  router.add(`${b}/units`, { GET: json(() => listUnits(ctx)) });
  router.add(`${b}/units/:name`, {
    GET: json((r) => getUnit(ctx, r.params.name!)),
    PUT: json((r) => putUnit(ctx, r)),
    PATCH: json((r) => patchUnit(ctx, r)),
    DELETE: json(async (r) => {
      if (!(await ctx.client.destroyUnit(r.params.name!))) throw new ApiError(404, 'unit does not exist');
      return { status: 204 };
    }),
  });
  router.add(`${b}/units/:name/file`, { GET: json((r) => getUnitFile(ctx, r.params.name!)) });
  router.add(`${b}/unit-files`, {
    GET: json(async () => ok({ unitFiles: (await ctx.client.listUnitFiles()).map((f) => ({ name: f.name, hash: f.file.hash(), options: f.file.options })) })),
  });
  router.add(`${b}/states`, { GET: json(async (r) => ok({ states: await ctx.client.listUnitStates(r.query.get('unit') || undefined) })) });
  router.add(`${b}/machines`, { GET: json(async () => ok({ machines: (await ctx.client.listMachines()).map(flotillaMachine) })) });
  router.add(`${b}/machines/:id`, { PATCH: json((r) => patchMachine(ctx, r)) });
  // Sources, diff and sync: source-routes.ts.
  if (ctx.sources) addSourceRoutes(router, b, ctx.sources);
}

async function listUnits(ctx: ApiContext): Promise<Reply> {
  const [units, inventory] = await Promise.all([ctx.client.listUnits(), ctx.inventory()]);
  const owners = new Map(inventory.map((e) => [e.unit, e]));
  return ok({ units: units.map((u) => flotillaUnit(u, owners.get(u.name))) });
}

async function getUnit(ctx: ApiContext, name: string): Promise<Reply> {
  const [u, inventory] = await Promise.all([ctx.client.getUnit(name), ctx.inventory()]);
  if (!u) throw new ApiError(404, 'unit does not exist');
  return ok(flotillaUnit(u, inventory.find((e) => e.unit === name)));
}

async function getUnitFile(ctx: ApiContext, name: string): Promise<Reply> {
  const file = await ctx.client.getUnitFile(name);
  if (!file) throw new ApiError(404, 'unit does not exist');
  return ok({ name, hash: file.hash(), options: file.options });
}

/** Create or replace: the rules of flotctl submit, checked here again (the body is untrusted). */
async function putUnit(ctx: ApiContext, r: Request): Promise<Reply> {
  const name = r.params.name!;
  const body = parseFlotillaUnitBody(await readJsonBody(r.raw), true);
  validateUnitName(name);
  const file = UnitFile.fromOptions(body.options!);
  validateUnit(file, name);
  const desired = body.desiredState ?? 'inactive';
  if (desired !== 'inactive' && parseUnitName(name).isTemplate) throw new ApiError(400, `cannot activate template ${JSON.stringify(name)}`);
  await ctx.client.createUnit(name, file, desired);
  return { status: 201 };
}

async function patchUnit(ctx: ApiContext, r: Request): Promise<Reply> {
  const body = parseFlotillaUnitBody(await readJsonBody(r.raw), false);
  if (!body.desiredState) throw new ApiError(400, 'desiredState is missing: give one of inactive, loaded, launched');
  if (!(await ctx.client.setDesiredState(r.params.name!, body.desiredState))) throw new ApiError(404, 'unit does not exist');
  return { status: 204 };
}

/** JSON-patch paths relative to the machine: /metadata/<key>. */
async function patchMachine(ctx: ApiContext, r: Request): Promise<Reply> {
  const id = r.params.id!;
  const ops = parseMetadataOps(await readJsonBody(r.raw), id);
  const [applied] = await applyMetadataOps(ctx, ops);
  return ok(applied!.result);
}
