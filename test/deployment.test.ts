// What an operator relies on in the Grafana provisioning files and the one-host deployment bundle: they
// cannot be tried here (Grafana and Docker do not install on our machines), so their structure is checked,
// and the files that must agree with each other (paths, variable names, the command line) are compared.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { z } from 'zod';
import { Env } from '../platform/index.ts';

const root = path.resolve(import.meta.dirname, '..');
const read = (relative: string): string => readFileSync(path.join(root, relative), 'utf8');
const readYaml = (relative: string): unknown => parse(read(relative)) as unknown;

/** Every YAML file under a repository folder, as repository-relative paths. */
function yamlFiles(folder: string): string[] {
  return readdirSync(path.join(root, folder), { recursive: true, encoding: 'utf8' })
    .filter((f) => /\.ya?ml$/.test(f))
    .map((f) => path.join(folder, f))
    .sort();
}

const LOADED_DATASOURCES = 'dashboards/provisioning/datasources';
const TOKEN_DATASOURCE = 'deploy/grafana/datasources-token/influxdb.yaml';
const PROVIDER = 'dashboards/provisioning/dashboards/city.yaml';
const ENV_EXAMPLE = 'deploy/city.env.example';
const PROMETHEUS = 'deploy/prometheus/prometheus.yml';

const DataSource = z.looseObject({
  name: z.string(),
  uid: z.string(),
  type: z.string(),
  access: z.string(),
  isDefault: z.boolean().optional(),
  url: z.string(),
  user: z.string().optional(),
  jsonData: z.looseObject({ version: z.string(), dbName: z.string() }),
  secureJsonData: z.record(z.string(), z.string()).optional(),
});
const DataSourceFile = z.object({ apiVersion: z.literal(1), datasources: z.array(DataSource).min(1) });

const ProviderFile = z.object({
  apiVersion: z.literal(1),
  providers: z.array(
    z.looseObject({
      name: z.string(),
      type: z.literal('file'),
      folder: z.string(),
      allowUiUpdates: z.boolean(),
      updateIntervalSeconds: z.number(),
      options: z.looseObject({ path: z.string() }),
    }),
  ),
});

const Service = z.looseObject({
  image: z.string(),
  environment: z.record(z.string(), z.string()).optional(),
  volumes: z.array(z.string()).optional(),
});
const ComposeFile = z.looseObject({ services: z.record(z.string(), Service) });

/**
 * The environment variables a provisioning value reads, as Grafana expands it: `$$` is a literal `$`;
 * `$NAME`, `${NAME}` and `$__env{NAME}` read NAME (grafana pkg/services/provisioning/values, interpolateValue).
 */
function referencedVariables(value: string): string[] {
  const names = value
    .split('$$')
    .flatMap((part) => [
      ...[...part.matchAll(/\$__env\{([^}]+)\}/g)].map((m) => m[1]),
      ...[...part.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g)].map((m) => m[1]),
      ...[...part.matchAll(/\$([A-Za-z_][A-Za-z0-9_]*)/g)]
        .map((m) => m[1])
        .filter((n) => !n?.startsWith('__')),
    ]);
  return names.filter((n): n is string => n !== undefined);
}

/** Every string inside a parsed YAML document. */
function strings(node: unknown): string[] {
  if (typeof node === 'string') return [node];
  if (Array.isArray(node)) return node.flatMap(strings);
  if (typeof node === 'object' && node !== null) return Object.values(node).flatMap(strings);
  return [];
}

/** `NAME=value` lines of an env file: `set` are in force, `documented` also counts commented-out ones. */
function envFile(text: string): { set: Record<string, string>; documented: Set<string> } {
  const set: Record<string, string> = {};
  const documented = new Set<string>();
  for (const line of text.split('\n')) {
    const m = /^(#\s*)?([A-Z][A-Z0-9_]*)=(.*)$/.exec(line.trim());
    if (m === null || m[2] === undefined) continue;
    documented.add(m[2]);
    if (m[1] === undefined) set[m[2]] = m[3] ?? '';
  }
  return { set, documented };
}

/** A short-syntax volume `source:target[:mode]`; a relative source resolved against the compose file's folder. */
function volume(spec: string): { source: string; target: string; readOnly: boolean } {
  const [source = '', target = '', mode] = spec.split(':');
  const isPath = source.startsWith('.') || source.startsWith('/');
  return { source: isPath ? path.resolve(root, 'deploy', source) : source, target, readOnly: mode === 'ro' };
}

const loadedSources = yamlFiles(LOADED_DATASOURCES).flatMap(
  (f) => DataSourceFile.parse(readYaml(f)).datasources,
);
const tokenSource = DataSourceFile.parse(readYaml(TOKEN_DATASOURCE)).datasources;
const compose = ComposeFile.parse(readYaml('deploy/compose.yaml'));
const grafanaMounts = (compose.services.grafana?.volumes ?? []).map(volume);
const env = envFile(read(ENV_EXAMPLE));

describe('the YAML files', () => {
  const files = [...yamlFiles('dashboards/provisioning'), ...yamlFiles('deploy')];

  it('are all found, and all parse', () => {
    expect(files).toEqual(expect.arrayContaining([PROVIDER, TOKEN_DATASOURCE, 'deploy/compose.yaml']));
    for (const f of files) expect(() => readYaml(f), f).not.toThrow();
  });

  it('declare apiVersion 1 when they are Grafana provisioning files', () => {
    const provisioning = files.filter((f) => !f.endsWith('compose.yaml') && f !== PROMETHEUS);
    expect(provisioning.length).toBeGreaterThanOrEqual(3);
    for (const f of provisioning)
      expect(z.looseObject({ apiVersion: z.unknown() }).parse(readYaml(f)).apiVersion, f).toBe(1);
  });
});

describe('the data source Grafana loads', () => {
  it('is exactly one default: InfluxDB through the Grafana server, uid city-influxdb, InfluxQL', () => {
    const defaults = loadedSources.filter((d) => d.isDefault === true);
    expect(defaults).toHaveLength(1);
    expect(defaults[0]).toMatchObject({ type: 'influxdb', uid: 'city-influxdb', access: 'proxy' });
    expect(defaults[0]?.jsonData.version).toBe('InfluxQL');
  });

  it("reads the platform's InfluxDB address and database", () => {
    expect(loadedSources[0]?.url).toBe('${INFLUX_URL}');
    expect(loadedSources[0]?.jsonData.dbName).toBe('${INFLUX_DB}');
  });
});

describe('the data source for InfluxDB 2.x and 3.x', () => {
  it('replaces the 1.x one rather than adding a second: same name, uid, type, access, default', () => {
    const pick = ({ name, uid, type, access, isDefault }: z.infer<typeof DataSource>) => ({
      name,
      uid,
      type,
      access,
      isDefault,
    });
    expect(tokenSource.map(pick)).toEqual(loadedSources.map(pick));
    expect(path.basename(TOKEN_DATASOURCE)).toBe(
      yamlFiles(LOADED_DATASOURCES).map((f) => path.basename(f))[0],
    );
  });

  it('sends the token as `Authorization: Token …` to the DBRP-mapped database, with no user beside it', () => {
    const source = tokenSource[0];
    expect(source?.jsonData).toMatchObject({
      version: 'InfluxQL',
      dbName: '${INFLUX_DB}',
      httpHeaderName1: 'Authorization',
    });
    expect(source?.secureJsonData?.httpHeaderValue1).toBe('Token ${INFLUX_TOKEN}');
    expect(source?.user).toBeUndefined();
    expect(source?.secureJsonData?.password).toBeUndefined();
  });
});

describe('the environment file', () => {
  it('finds variables the way Grafana expands them', () => {
    const found = referencedVariables('http://$HOST:${PORT}/$$LITERAL $__env{TOKEN} $__file{/run/x}');
    expect(found.sort()).toEqual(['HOST', 'PORT', 'TOKEN']);
  });

  it('documents every variable the provisioning files read', () => {
    const files = [...yamlFiles('dashboards/provisioning'), TOKEN_DATASOURCE];
    const used = new Set(files.flatMap((f) => strings(readYaml(f)).flatMap(referencedVariables)));
    expect([...used]).toEqual(
      expect.arrayContaining(['INFLUX_URL', 'INFLUX_DB', 'INFLUX_TOKEN', 'INFLUX_PASSWORD']),
    );
    expect([...used].filter((name) => !env.documented.has(name))).toEqual([]);
  });

  it("documents every variable of the platform's configuration", () => {
    expect(Object.keys(Env.shape).filter((name) => !env.documented.has(name))).toEqual([]);
  });

  it('is a configuration the platform accepts, pointing it at an external InfluxDB', () => {
    const result = Env.safeParse(env.set);
    expect(result.error?.issues ?? []).toEqual([]);
    expect(result.data?.INFLUX_URL).toMatch(/^https?:\/\//);
  });
});

describe('the Prometheus scrape configuration', () => {
  it("scrapes /metrics at the API's default port", () => {
    const config = z
      .object({
        scrape_configs: z.array(
          z.looseObject({
            job_name: z.string(),
            metrics_path: z.string(),
            static_configs: z.array(z.looseObject({ targets: z.array(z.string()) })),
          }),
        ),
      })
      .parse(readYaml(PROMETHEUS));
    const [job] = config.scrape_configs;
    expect(job?.metrics_path).toBe('/metrics');
    expect(job?.static_configs[0]?.targets).toEqual([`127.0.0.1:${Env.parse({}).CITY_API_PORT}`]);
  });
});

describe('the dashboard provider', () => {
  const providers = ProviderFile.parse(readYaml(PROVIDER)).providers;

  it('loads files into "City operations", read-only in the UI, rescanning on its own', () => {
    expect(providers).toHaveLength(1);
    expect(providers[0]).toMatchObject({ type: 'file', folder: 'City operations', allowUiUpdates: false });
    expect(providers[0]?.updateIntervalSeconds).toBeGreaterThan(0);
  });

  it('reads the folder where compose mounts dashboards/json, the install folder on one host', () => {
    const dashboards = grafanaMounts.find((m) => m.source === path.join(root, 'dashboards/json'));
    expect(dashboards?.target).toBe(providers[0]?.options.path);
    expect(dashboards?.readOnly).toBe(true);
    const workdir = /^WorkingDirectory=(.+)$/m.exec(read('deploy/systemd/city-telemetry.service'))?.[1];
    expect(`${workdir}/dashboards/json`).toBe(providers[0]?.options.path);
  });
});

describe('the compose file', () => {
  it("mounts the provisioning folders read-only at Grafana's paths", () => {
    for (const kind of ['datasources', 'dashboards']) {
      const mount = grafanaMounts.find((m) => m.target === `/etc/grafana/provisioning/${kind}`);
      expect(mount?.source, kind).toBe(path.join(root, 'dashboards/provisioning', kind));
      expect(mount?.readOnly, kind).toBe(true);
    }
  });

  it('points the platform and Grafana at the same InfluxDB, its influxdb service', () => {
    const url = compose.services.platform?.environment?.INFLUX_URL;
    expect(url).toBeDefined();
    expect(Object.keys(compose.services)).toContain(new URL(url ?? 'x:').hostname);
    expect(compose.services.grafana?.environment?.INFLUX_URL).toBe(url);
  });

  it('names images without a registry host', () => {
    for (const [name, service] of Object.entries(compose.services)) {
      const first = service.image.split('/')[0] ?? '';
      expect(service.image.includes('/') && /[.:]|^localhost$/.test(first), name).toBe(false);
    }
  });
});

describe('the cluster in containers', () => {
  const cluster = ComposeFile.parse(parse(read('deploy/cluster/compose.yaml'), { merge: true }) as unknown);
  const nodes = Object.entries(cluster.services).filter(([name]) => /^node\d$/.test(name));
  const haproxy = cluster.services.haproxy?.environment ?? {};
  const variables = new Set(Object.keys(Env.shape));

  it('runs three nodes, each with a name of its own, on the Redis and PostgreSQL services, behind HAProxy', () => {
    expect(nodes.map(([name]) => name)).toEqual(['node1', 'node2', 'node3']);
    const ids = nodes.map(([, s]) => s.environment?.CITY_NODE_ID);
    expect(new Set(ids).size).toBe(3);
    for (const [name, service] of nodes) {
      const e = service.environment ?? {};
      for (const variable of Object.keys(e))
        expect(variables.has(variable), `${name}: ${variable}`).toBe(true);
      expect(Object.keys(cluster.services)).toContain(new URL(e.CITY_REDIS_URL ?? 'x:').hostname);
      expect(Object.keys(cluster.services)).toContain(new URL(e.CITY_DATABASE_URL ?? 'x:').hostname);
      expect(e.CITY_MQTT_PROXY_PROTOCOL).toBe('true');
      expect(service.image).toBe(compose.services.platform?.image);
    }
  });

  it("gives HAProxy every variable its configuration reads, pointing at the nodes' ports", () => {
    const cfg = read('deploy/cluster/haproxy.cfg');
    const read_ = [...cfg.matchAll(/\$\{([A-Z0-9_]+)(-[^}]*)?\}/g)];
    for (const [, name, fallback] of read_)
      expect(name !== undefined && (name in haproxy || fallback !== undefined), name).toBe(true);
    for (const [i, [name, service]] of nodes.entries()) {
      expect(haproxy[`CITY_NODE${i + 1}_HOST`]).toBe(name);
      expect(haproxy[`CITY_NODE${i + 1}_MQTT_PORT`]).toBe(service.environment?.CITY_MQTT_PORT);
      expect(haproxy[`CITY_NODE${i + 1}_API_PORT`]).toBe(service.environment?.CITY_API_PORT);
    }
    expect(cluster.services.haproxy?.volumes).toContain(
      './haproxy.cfg:/usr/local/etc/haproxy/haproxy.cfg:ro',
    );
  });
});

describe('the command that runs the platform', () => {
  const npmStart = z
    .object({ scripts: z.object({ start: z.string() }) })
    .parse(JSON.parse(read('package.json')))
    .scripts.start.split(/\s+/);

  it('is what `npm start` runs, in the systemd unit and in the image', () => {
    expect(npmStart[0]).toBe('node');
    const execStart = /^ExecStart=(.+)$/m
      .exec(read('deploy/systemd/city-telemetry.service'))?.[1]
      ?.split(/\s+/);
    expect(execStart?.slice(1)).toEqual(npmStart.slice(1));
    expect(execStart?.[0]).toMatch(/\/node$/);
    const cmd = /^CMD (.+)$/m.exec(read('deploy/platform.Dockerfile'))?.[1];
    expect(z.array(z.string()).parse(JSON.parse(cmd ?? 'null'))).toEqual(npmStart);
  });
});

describe('the platform image', () => {
  const dockerfile = read('deploy/platform.Dockerfile');
  /** The image's own stage: the console's build stage before it is not the platform. */
  const image = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
  const copied = [...image.matchAll(/^COPY (\S+) \.\/(\S+)$/gm)].map((m) => m[1]!);
  /** Every folder with a public entry the platform process may load: all but the tests and benchmarks. */
  const components = readdirSync(root, { withFileTypes: true })
    .filter((d) => d.isDirectory() && !['test', 'bench', 'node_modules'].includes(d.name))
    .map((d) => d.name)
    .filter((name) => readdirSync(path.join(root, name)).includes('index.ts'));

  it('copies every component the platform runs, and neither the tests nor the benchmarks', () => {
    const folders = copied.filter((c) => !c.includes('.'));
    expect(folders.sort()).toEqual(components.sort());
    const ignored = read('deploy/platform.Dockerfile.dockerignore').split('\n');
    expect(ignored).toEqual(expect.arrayContaining(['**/*.test.ts', 'test', 'bench']));
    // The console goes in built, not as sources.
    expect(image).toMatch(/^COPY --from=console \/build\/console\/dist \.\/console\/dist$/m);
  });

  it('installs no development tool and not Node-RED, which only its own process needs', () => {
    expect(dockerfile).toMatch(/^RUN npm ci --omit=dev --workspaces=false/m);
    const workspace = z
      .object({ dependencies: z.record(z.string(), z.string()) })
      .parse(JSON.parse(read('flows/node-red/package.json')));
    const rootPackage = z
      .object({ dependencies: z.record(z.string(), z.string()), workspaces: z.array(z.string()) })
      .parse(JSON.parse(read('package.json')));
    expect(Object.keys(workspace.dependencies)).toContain('node-red');
    expect(Object.keys(rootPackage.dependencies)).not.toContain('node-red');
    expect(rootPackage.workspaces).toEqual(['flows/node-red']);
  });
});
