import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadNodeRedConfig, NodeRedConfigError, nodeRedSettings } from './settings.ts';

const credentials = JSON.stringify([
  { id: 'rain-kim-long', type: 'device', secret: 'device-secret' },
  { id: 'node-red', type: 'service', secret: 'kept-secret' },
]);

function problemsOf(run: () => unknown): readonly string[] {
  try {
    run();
  } catch (err) {
    if (err instanceof NodeRedConfigError) return err.problems;
    throw err;
  }
  throw new Error('no NodeRedConfigError');
}

describe('loadNodeRedConfig', () => {
  it('defaults to the local platform, loopback, port 1880 and a user folder in ./var', () => {
    const c = loadNodeRedConfig({ CITY_NODE_RED_SECRET: 's' });
    expect(c.host).toBe('127.0.0.1');
    expect(c.port).toBe(1880);
    expect(c.userDir).toBe(path.resolve('var', 'node-red'));
    expect(c.platform).toEqual({
      mqttUrl: 'mqtt://127.0.0.1:1883',
      account: 'node-red',
      secret: 's',
      prefix: 'city',
      apiUrl: 'http://127.0.0.1:8080',
      apiToken: undefined,
    });
    expect(c.warnings).toHaveLength(1);
    expect(Object.isFrozen(c)).toBe(true);
  });

  it("follows the platform's ports, data folder and prefix", () => {
    const c = loadNodeRedConfig({
      CITY_NODE_RED_SECRET: 's',
      CITY_MQTT_PORT: '2883',
      CITY_API_PORT: '9080',
      CITY_DATA_DIR: '/srv/city',
      CITY_TOPIC_PREFIX: 'hue/city',
      CITY_NODE_RED_PORT: '0',
    });
    expect(c.platform.mqttUrl).toBe('mqtt://127.0.0.1:2883');
    expect(c.platform.apiUrl).toBe('http://127.0.0.1:9080');
    expect(c.platform.prefix).toBe('hue/city');
    expect(c.userDir).toBe(path.join('/srv/city', 'node-red'));
    expect(c.port).toBe(0);
  });

  it('takes explicit URLs over ports', () => {
    const c = loadNodeRedConfig({
      CITY_NODE_RED_SECRET: 's',
      CITY_MQTT_URL: 'mqtts://broker.example:8883',
      CITY_API_URL: 'https://city.example',
      CITY_MQTT_PORT: '2883',
    });
    expect(c.platform.mqttUrl).toBe('mqtts://broker.example:8883');
    expect(c.platform.apiUrl).toBe('https://city.example');
  });

  it("takes the secret from the demo's credentials file when the environment has none", () => {
    expect(loadNodeRedConfig({}, { fleetCredentials: credentials }).platform.secret).toBe('kept-secret');
    const fromEnv = loadNodeRedConfig({ CITY_NODE_RED_SECRET: 'env' }, { fleetCredentials: credentials });
    expect(fromEnv.platform.secret).toBe('env');
  });

  it('finds the secret of the account asked for', () => {
    const c = loadNodeRedConfig(
      { CITY_NODE_RED_ACCOUNT: 'rain-kim-long' },
      { fleetCredentials: credentials },
    );
    expect(c.platform.secret).toBe('device-secret');
  });

  it('says what to do when there is no secret', () => {
    const problems = problemsOf(() => loadNodeRedConfig({ CITY_DATA_DIR: '/srv/city' }));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain('CITY_NODE_RED_SECRET');
    expect(problems[0]).toContain(path.join('/srv/city', 'fleet-credentials.json'));
  });

  it('reports a broken credentials file', () => {
    expect(problemsOf(() => loadNodeRedConfig({}, { fleetCredentials: '{' }))).toEqual(
      expect.arrayContaining([expect.stringContaining('not JSON')]),
    );
    expect(problemsOf(() => loadNodeRedConfig({}, { fleetCredentials: '{"id":1}' }))).toEqual(
      expect.arrayContaining([expect.stringContaining('not a list')]),
    );
  });

  it('takes the API token from its own variable, then the admin token, then the demo file', () => {
    const files = { adminToken: 'file-token\n' };
    const env = { CITY_NODE_RED_SECRET: 's' };
    expect(loadNodeRedConfig(env, files).platform.apiToken).toBe('file-token');
    expect(loadNodeRedConfig({ ...env, CITY_ADMIN_TOKEN: 'admin' }, files).platform.apiToken).toBe('admin');
    const own = loadNodeRedConfig({ ...env, CITY_ADMIN_TOKEN: 'admin', CITY_NODE_RED_API_TOKEN: 'viewer' });
    expect(own.platform.apiToken).toBe('viewer');
    expect(own.warnings).toEqual([]);
  });

  it('refuses an editor without login off loopback', () => {
    const env = { CITY_NODE_RED_SECRET: 's', CITY_NODE_RED_HOST: '0.0.0.0' };
    expect(problemsOf(() => loadNodeRedConfig(env))[0]).toContain('CITY_NODE_RED_ADMIN_HASH');
    const c = loadNodeRedConfig({ ...env, CITY_NODE_RED_ADMIN_HASH: '$2b$08$hash' });
    expect(c.host).toBe('0.0.0.0');
  });

  it('reports every bad variable at once', () => {
    const problems = problemsOf(() =>
      loadNodeRedConfig({
        CITY_NODE_RED_PORT: '70000',
        CITY_MQTT_URL: 'not a url',
        CITY_NODE_RED_ACCOUNT: 'no spaces',
        CITY_LOG_LEVEL: 'loud',
      }),
    );
    expect(problems.map((p) => p.split(':')[0]).sort()).toEqual([
      'CITY_LOG_LEVEL',
      'CITY_MQTT_URL',
      'CITY_NODE_RED_ACCOUNT',
      'CITY_NODE_RED_PORT',
    ]);
  });
});

describe('nodeRedSettings', () => {
  const log = () => {};

  it("loads the project's nodes, keeps context on disk and passes the platform to the config node", () => {
    const c = loadNodeRedConfig({ CITY_NODE_RED_SECRET: 's', CITY_DATA_DIR: '/srv/city' });
    const s = nodeRedSettings(c, { nodesDir: '/nodes', log });
    expect(s).toMatchObject({
      userDir: path.join('/srv/city', 'node-red'),
      flowFile: 'flows.json',
      nodesDir: ['/nodes'],
      contextStorage: { default: { module: 'localfilesystem' } },
      cityPlatform: { secret: 's', account: 'node-red', mqttUrl: 'mqtt://127.0.0.1:1883' },
    });
    expect(s).not.toHaveProperty('adminAuth');
    expect(s).not.toHaveProperty('credentialSecret');
  });

  it('logs only through the given handler, at the configured level', () => {
    const c = loadNodeRedConfig({ CITY_NODE_RED_SECRET: 's', CITY_LOG_LEVEL: 'silent' });
    const s = nodeRedSettings(c, { nodesDir: '/nodes', log });
    expect(Object.keys(s.logging as object)).toEqual(['pino']);
    expect(s.logging).toMatchObject({ pino: { level: 'off' } });
  });

  it('asks for a login when an admin hash is set, and uses the credential key given', () => {
    const c = loadNodeRedConfig({
      CITY_NODE_RED_SECRET: 's',
      CITY_NODE_RED_ADMIN_HASH: '$2b$08$hash',
      CITY_NODE_RED_CREDENTIAL_SECRET: 'key',
    });
    const s = nodeRedSettings(c, { nodesDir: '/nodes', log });
    expect(s.adminAuth).toEqual({
      type: 'credentials',
      users: [{ username: 'admin', password: '$2b$08$hash', permissions: '*' }],
    });
    expect(s.credentialSecret).toBe('key');
  });
});
