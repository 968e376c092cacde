/** Global flags: command line, then FLOTCTL_* environment, then defaults. */
import assert from 'node:assert/strict';
import { homedir } from 'node:os';
import { describe, it } from 'node:test';
import { GLOBAL_FLAGS, envName, redactedArgv, resolveGlobals } from '../../src/cli/globals.js';
import { expandCommandPrefix } from '../../src/cli/prefix.js';
import { UsageError } from '../../src/util/errors.js';

const none = (): boolean => false;

/** No TLS material, no user: how each store setting is named when none is given. */
const NO_STORE = {
  credentials: {},
  names: { caFile: '--ca-file', certFile: '--cert-file', keyFile: '--key-file', username: '--username', password: '--password', endpoints: '--endpoint' },
  passwordInArgv: false,
};

describe('resolveGlobals', () => {
  it('defaults', () => {
    assert.deepEqual(resolveGlobals({}, none, {}), {
      driver: 'api',
      endpoint: 'unix:///var/run/flotilla.sock',
      endpointSource: '--endpoint',
      etcdKeyPrefix: '/flotilla/',
      etcdKeyPrefixOnCommandLine: false,
      requestTimeoutMs: 3000,
      debug: false,
      json: false,
      ssh: { username: 'core', knownHostsFile: `${homedir()}/.flotctl/known_hosts`, strictHostKeyChecking: true, timeoutMs: 10_000 },
      store: NO_STORE,
    });
  });

  it("SSH settings: fleetctl's flags, ~ expanded, tunnel port 22 unless given, SSH_AUTH_SOCK picked up", () => {
    const g = resolveGlobals({}, none, {
      HOME: '/home/u',
      SSH_AUTH_SOCK: '/run/agent.sock',
      FLOTCTL_TUNNEL: 'bastion.example',
      FLOTCTL_SSH_USERNAME: 'root',
      FLOTCTL_SSH_IDENTITY: '~/.ssh/id_ed25519',
      FLOTCTL_KNOWN_HOSTS_FILE: '~/kh',
      FLOTCTL_STRICT_HOST_KEY_CHECKING: 'false',
      FLOTCTL_SSH_TIMEOUT: '2.5',
    });
    assert.deepEqual(g.ssh, {
      username: 'root',
      identityFile: '/home/u/.ssh/id_ed25519',
      knownHostsFile: '/home/u/kh',
      strictHostKeyChecking: false,
      timeoutMs: 2500,
      tunnel: { address: 'bastion.example', port: 22 },
      agentSocket: '/run/agent.sock',
    });
    assert.deepEqual(resolveGlobals({}, none, { FLOTCTL_TUNNEL: '[::1]:2200' }).ssh.tunnel, { address: '::1', port: 2200 });
    for (const [k, v] of [['FLOTCTL_TUNNEL', 'a:b:c'], ['FLOTCTL_TUNNEL', 'h:70000'], ['FLOTCTL_SSH_TIMEOUT', '0'], ['FLOTCTL_STRICT_HOST_KEY_CHECKING', 'sometimes']] as const) {
      assert.throws(() => resolveGlobals({}, none, { [k]: v }), (e: unknown) => e instanceof UsageError && e.message.includes(k), `${k}=${v}`);
    }
  });

  it('every global flag has a FLOTCTL_ variable', () => {
    assert.deepEqual(GLOBAL_FLAGS.map(envName), [
      'FLOTCTL_DRIVER',
      'FLOTCTL_ENDPOINT',
      'FLOTCTL_ETCD_KEY_PREFIX',
      'FLOTCTL_REQUEST_TIMEOUT',
      'FLOTCTL_DEBUG',
      'FLOTCTL_JSON',
      'FLOTCTL_TUNNEL',
      'FLOTCTL_SSH_USERNAME',
      'FLOTCTL_SSH_IDENTITY',
      'FLOTCTL_KNOWN_HOSTS_FILE',
      'FLOTCTL_STRICT_HOST_KEY_CHECKING',
      'FLOTCTL_SSH_TIMEOUT',
      'FLOTCTL_CA_FILE',
      'FLOTCTL_CERT_FILE',
      'FLOTCTL_KEY_FILE',
      'FLOTCTL_USERNAME',
      'FLOTCTL_PASSWORD',
    ]);
  });

  it('the environment overrides defaults', () => {
    const g = resolveGlobals({}, none, {
      FLOTCTL_DRIVER: 'etcd',
      FLOTCTL_ENDPOINT: 'http://10.0.0.1:2379,http://10.0.0.2:2379',
      FLOTCTL_ETCD_KEY_PREFIX: '/x/',
      FLOTCTL_REQUEST_TIMEOUT: '0.5',
      FLOTCTL_DEBUG: 'true',
      FLOTCTL_JSON: '1',
    });
    assert.deepEqual(g, {
      driver: 'etcd',
      endpoint: 'http://10.0.0.1:2379,http://10.0.0.2:2379',
      endpointSource: 'FLOTCTL_ENDPOINT',
      etcdKeyPrefix: '/x/',
      etcdKeyPrefixOnCommandLine: false,
      requestTimeoutMs: 500,
      debug: true,
      json: true,
      ssh: { username: 'core', knownHostsFile: `${homedir()}/.flotctl/known_hosts`, strictHostKeyChecking: true, timeoutMs: 10_000 },
      store: { ...NO_STORE, names: { ...NO_STORE.names, endpoints: 'FLOTCTL_ENDPOINT' } },
    });
  });

  it('--driver (FLOTCTL_DRIVER) picks the default endpoint; an explicit endpoint is taken as given', () => {
    const api = resolveGlobals({}, none, { FLOTCTL_DRIVER: 'API' });
    assert.deepEqual([api.driver, api.endpoint, api.endpointSource], ['api', 'unix:///var/run/flotilla.sock', '--endpoint']);
    const cli = resolveGlobals({ driver: 'etcd' }, (k) => k === 'driver', { FLOTCTL_DRIVER: 'api' });
    assert.deepEqual([cli.driver, cli.endpoint], ['etcd', 'http://127.0.0.1:2379']);
    // Never guessed from the URL: an http:// endpoint with --driver api is an API endpoint.
    const given = resolveGlobals({ driver: 'api', endpoint: 'http://10.0.0.1:2379' }, (k) => k === 'driver' || k === 'endpoint', {});
    assert.deepEqual([given.driver, given.endpoint], ['api', 'http://10.0.0.1:2379']);
    assert.throws(() => resolveGlobals({}, none, { FLOTCTL_DRIVER: 'grpc' }), (e: unknown) => e instanceof UsageError && e.message === 'invalid FLOTCTL_DRIVER "grpc": use api (flotillad\'s API) or etcd (etcd directly)');
  });

  it('etcd TLS material and user: flags or FLOTCTL_ variables, each named by where it came from', () => {
    const g = resolveGlobals({ password: 'pw' }, (k) => k === 'password', {
      HOME: '/home/u',
      FLOTCTL_CA_FILE: '~/ca.pem',
      FLOTCTL_CERT_FILE: '/c.pem',
      FLOTCTL_KEY_FILE: '/k.pem',
      FLOTCTL_USERNAME: 'flotilla',
      FLOTCTL_PASSWORD: 'from-env',
    });
    assert.deepEqual(g.store, {
      credentials: { caFile: '/home/u/ca.pem', certFile: '/c.pem', keyFile: '/k.pem', username: 'flotilla', password: 'pw' },
      names: { caFile: 'FLOTCTL_CA_FILE', certFile: 'FLOTCTL_CERT_FILE', keyFile: 'FLOTCTL_KEY_FILE', username: 'FLOTCTL_USERNAME', password: '--password', endpoints: '--endpoint' },
      passwordInArgv: true,
    });
    assert.equal(resolveGlobals({}, none, { FLOTCTL_PASSWORD: 'x' }).store.passwordInArgv, false);
  });

  it('a password on the command line is blanked for ps', () => {
    assert.deepEqual(redactedArgv(['--password', 's3cret', 'list-units']), ['--password', '***', 'list-units']);
    assert.deepEqual(redactedArgv(['--password=s3cret', 'list-units']), ['--password=***', 'list-units']);
    assert.equal(redactedArgv(['list-units', '--username', 'u']), undefined);
  });

  it('the command line wins over the environment', () => {
    const cli = { endpoint: 'http://cli:2379', debug: true, requestTimeout: '7' };
    const fromCli = (k: string): boolean => k in cli;
    const g = resolveGlobals(cli, fromCli, { FLOTCTL_ENDPOINT: 'http://env:2379', FLOTCTL_DEBUG: 'false', FLOTCTL_REQUEST_TIMEOUT: '1' });
    assert.equal(g.endpoint, 'http://cli:2379');
    assert.equal(g.debug, true);
    assert.equal(g.requestTimeoutMs, 7000);
  });

  it('false-y boolean variables are false', () => {
    for (const v of ['false', '0', 'no', 'off', 'FALSE', ' off ']) assert.equal(resolveGlobals({}, none, { FLOTCTL_DEBUG: v }).debug, false, v);
  });

  it('an empty or blank FLOTCTL_STRICT_HOST_KEY_CHECKING keeps host-key checking on (fails closed)', () => {
    for (const v of ['', ' ', '\t']) {
      assert.equal(resolveGlobals({}, none, { FLOTCTL_STRICT_HOST_KEY_CHECKING: v }).ssh.strictHostKeyChecking, true, JSON.stringify(v));
    }
    assert.equal(resolveGlobals({}, none, { FLOTCTL_STRICT_HOST_KEY_CHECKING: 'false' }).ssh.strictHostKeyChecking, false);
  });

  it('every FLOTCTL_ variable set empty or blank counts as unset: the defaults apply', () => {
    const defaults = resolveGlobals({}, none, {});
    for (const v of ['', '  ']) {
      const env = Object.fromEntries([...GLOBAL_FLAGS.map(envName), 'SSH_AUTH_SOCK'].map((n) => [n, v]));
      assert.deepEqual(resolveGlobals({}, none, env), defaults, JSON.stringify(v));
    }
  });

  it('an empty boolean, known_hosts file or SSH user on the command line is a usage error naming the flag', () => {
    for (const [key, flag] of [['strictHostKeyChecking', '--strict-host-key-checking'], ['knownHostsFile', '--known-hosts-file'], ['sshUsername', '--ssh-username']] as const) {
      assert.throws(() => resolveGlobals({ [key]: '' }, (k) => k === key, {}), (e: unknown) => e instanceof UsageError && e.message.startsWith(`invalid ${flag} ""`), flag);
    }
    // an empty --tunnel or --ssh-identity means none, overriding the environment
    const g = resolveGlobals({ tunnel: '', sshIdentity: '' }, (k) => k === 'tunnel' || k === 'sshIdentity', { FLOTCTL_TUNNEL: 'b', FLOTCTL_SSH_IDENTITY: '/k' });
    assert.equal(g.ssh.tunnel, undefined);
    assert.equal(g.ssh.identityFile, undefined);
  });

  it('bad values are usage errors naming where they came from', () => {
    assert.throws(() => resolveGlobals({}, none, { FLOTCTL_DEBUG: 'maybe' }), (e: unknown) => e instanceof UsageError && /FLOTCTL_DEBUG/.test(e.message));
    assert.throws(() => resolveGlobals({ requestTimeout: '-1' }, () => true, {}), /--request-timeout/);
  });
});

describe('command prefixes', () => {
  const commands = ['list-units', 'list-unit-files', 'list-machines', 'load', 'start', 'stop', 'submit', 'help'];
  const valueFlags = ['--endpoint', '--etcd-key-prefix', '--request-timeout'];

  it('an unambiguous prefix names its command', () => {
    assert.deepEqual(expandCommandPrefix(['list-m'], commands, valueFlags), ['list-machines']);
    assert.deepEqual(expandCommandPrefix(['--endpoint', 'http://x:1', 'sta', 'a'], commands, valueFlags), ['--endpoint', 'http://x:1', 'start', 'a']);
  });

  it('exact names, ambiguous prefixes and unknown words are left alone', () => {
    assert.deepEqual(expandCommandPrefix(['list-units'], commands, valueFlags), ['list-units']);
    assert.deepEqual(expandCommandPrefix(['list-unit'], commands, valueFlags), ['list-unit']);
    assert.deepEqual(expandCommandPrefix(['st'], commands, valueFlags), ['st']);
    assert.deepEqual(expandCommandPrefix(['bogus'], commands, valueFlags), ['bogus']);
  });

  it('only the command word is expanded, not arguments', () => {
    assert.deepEqual(expandCommandPrefix(['start', 'lo'], commands, valueFlags), ['start', 'lo']);
  });
});
