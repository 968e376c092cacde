import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { NetworkInterfaceInfo } from 'node:os';
import { defaultRouteInterface, pickPublicIP } from '../../src/daemon/public-ip.js';

const ROUTES = `Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT
eth1\t0000000A\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0
eth1\t00000000\t0100000A\t0003\t0\t0\t200\t00000000\t0\t0\t0
eth0\t00000000\t010200C0\t0003\t0\t0\t100\t00000000\t0\t0\t0
`;

function v4(address: string, internal = false): NetworkInterfaceInfo {
  return { address, family: 'IPv4', internal, netmask: '255.255.255.0', mac: '00:00:00:00:00:00', cidr: `${address}/24` };
}

test('the default route with the lowest metric names the interface', () => {
  assert.equal(defaultRouteInterface(ROUTES), 'eth0');
  assert.equal(defaultRouteInterface('Iface\tDestination\n'), undefined);
});

test('the published address is the default-route interface address, else the first non-loopback IPv4, else none', () => {
  const ifaces = { lo: [v4('127.0.0.1', true)], eth1: [v4('10.0.0.7')], eth0: [v4('192.0.2.5')] };
  assert.equal(pickPublicIP(ROUTES, ifaces), '192.0.2.5');
  assert.equal(pickPublicIP('', ifaces), '10.0.0.7');
  assert.equal(pickPublicIP(ROUTES, { lo: [v4('127.0.0.1', true)] }), '');
});
