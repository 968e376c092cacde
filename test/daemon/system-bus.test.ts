import { test } from 'node:test';
import assert from 'node:assert/strict';
import { systemdBus } from '../../src/daemon/flotillad.js';

test('system scope without a configured bus drives PID 1 on the system bus, as flotillad.service does', () => {
  assert.equal(systemdBus({ systemdBusAddress: undefined, systemdScope: 'system' }, {}), 'unix:path=/run/dbus/system_bus_socket');
  assert.equal(systemdBus({ systemdBusAddress: undefined, systemdScope: 'system' }, { DBUS_SYSTEM_BUS_ADDRESS: 'unix:path=/x' }), 'unix:path=/x');
});

test('a configured bus wins; user scope has no default (a user manager has no well-known address)', () => {
  assert.equal(systemdBus({ systemdBusAddress: 'unix:path=/h/bus', systemdScope: 'system' }, {}), 'unix:path=/h/bus');
  assert.equal(systemdBus({ systemdBusAddress: undefined, systemdScope: 'user' }, {}), undefined);
});
