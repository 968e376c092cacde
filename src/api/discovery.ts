/**
 * GET /fleet/v1/discovery: a Google API discovery document describing
 * /fleet/v1, for clients generated from one (fleet's Go client was). Written
 * from the routes in fleet-routes.ts; like fleet's, its rootUrl is a
 * placeholder the client replaces with the endpoint it talks to. PATCH
 * /machines is described too (fleet's document left it out).
 */
import { VERSION } from '../util/version.js';

type Schema = Record<string, unknown>;

const str = { type: 'string' };
const page = (item: string, key: string): Schema => ({
  id: `${item}Page`,
  type: 'object',
  properties: { [key]: { type: 'array', items: { $ref: item } }, nextPageToken: str },
});

const schemas: Record<string, Schema> = {
  UnitOption: { id: 'UnitOption', type: 'object', properties: { section: str, name: str, value: str } },
  Unit: {
    id: 'Unit',
    type: 'object',
    properties: {
      name: str,
      options: { type: 'array', items: { $ref: 'UnitOption' } },
      desiredState: { type: 'string', enum: ['inactive', 'loaded', 'launched'] },
      currentState: { type: 'string', enum: ['inactive', 'loaded', 'launched'] },
      machineID: str,
    },
  },
  UnitPage: page('Unit', 'units'),
  UnitState: {
    id: 'UnitState',
    type: 'object',
    properties: { name: str, hash: str, machineID: str, systemdLoadState: str, systemdActiveState: str, systemdSubState: str },
  },
  UnitStatePage: page('UnitState', 'states'),
  Machine: { id: 'Machine', type: 'object', properties: { id: str, primaryIP: str, metadata: { type: 'object', additionalProperties: str } } },
  MachinePage: page('Machine', 'machines'),
  MachineMetadataOp: {
    id: 'MachineMetadataOp',
    type: 'object',
    properties: { op: { type: 'string', enum: ['add', 'replace', 'remove'] }, path: str, value: { type: 'object', properties: { value: str } } },
  },
};

const token = { nextPageToken: { type: 'string', location: 'query' } };
const unitName = { unitName: { type: 'string', required: true, location: 'path' } };

const resources = {
  Machines: {
    methods: {
      List: { id: 'fleet.Machine.List', httpMethod: 'GET', path: 'machines', parameters: token, response: { $ref: 'MachinePage' } },
      Patch: { id: 'fleet.Machine.Patch', httpMethod: 'PATCH', path: 'machines', request: { type: 'array', items: { $ref: 'MachineMetadataOp' } } },
    },
  },
  Units: {
    methods: {
      List: { id: 'fleet.Unit.List', httpMethod: 'GET', path: 'units', parameters: token, response: { $ref: 'UnitPage' } },
      Get: { id: 'fleet.Unit.Get', httpMethod: 'GET', path: 'units/{unitName}', parameters: unitName, parameterOrder: ['unitName'], response: { $ref: 'Unit' } },
      Delete: { id: 'fleet.Unit.Delete', httpMethod: 'DELETE', path: 'units/{unitName}', parameters: unitName, parameterOrder: ['unitName'] },
      Set: { id: 'fleet.Unit.Set', httpMethod: 'PUT', path: 'units/{unitName}', parameters: unitName, parameterOrder: ['unitName'], request: { $ref: 'Unit' } },
    },
  },
  UnitState: {
    methods: {
      List: {
        id: 'fleet.UnitState.List',
        httpMethod: 'GET',
        path: 'state',
        parameters: { ...token, unitName: { type: 'string', location: 'query' }, machineID: { type: 'string', location: 'query' } },
        response: { $ref: 'UnitStatePage' },
      },
      Get: { id: 'fleet.UnitState.Get', httpMethod: 'GET', path: 'state/{unitName}', parameters: unitName, parameterOrder: ['unitName'], response: { $ref: 'UnitState' } },
    },
  },
};

export function fleetDiscovery(): Record<string, unknown> {
  return {
    kind: 'discovery#restDescription',
    discoveryVersion: 'v1',
    id: 'fleet:v1',
    name: 'fleet',
    version: 'v1',
    title: 'fleet API v1, served by Flotilla',
    description: `fleet's HTTP API v1 as flotillad ${VERSION} serves it`,
    protocol: 'rest',
    rootUrl: '$ENDPOINT/',
    basePath: '/fleet/v1/',
    baseUrl: '$ENDPOINT/fleet/v1/',
    servicePath: 'fleet/v1/',
    batchPath: 'batch',
    parameters: {},
    schemas,
    resources,
  };
}
