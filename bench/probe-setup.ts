// Inside the platform's process: what the alert probe needs, provisioned through the registry as an
// operator would — a street-flood gauge copied from the Huế fleet file's first one (same kind, tags and
// metadata, so the same rules watch it), a service account that may read alerts and an engineer's API token
// (to give the gauge's agency the probe's webhook) — and the check that
// the rule set in force watches the bench's stations and the probe's gauge.
import { createTopics, loadFleet, type DeviceRecord } from '../devices/index.ts';
import type { Platform } from '../platform/index.ts';
import { selects, whyNotApplicable, type LoadedRule } from '../rules/index.ts';
import type { ProbeSetup, RuleCoverage } from './ipc.ts';

export const PROBE_GAUGE_ID = 'bench-street-probe';
export const PROBE_READER_ID = 'bench-alert-reader';

export async function provisionProbe(platform: Platform): Promise<ProbeSetup> {
  const fleet = await loadFleet();
  const model = fleet.devices.find((d) => d.kind === 'flood' && d.tags.includes('street-flood'));
  if (model?.kind !== 'flood') throw new Error('the fleet file has no street-flood gauge to copy');
  const [gauge, reader] = await Promise.all([
    platform.registry.provisionDevice({
      id: PROBE_GAUGE_ID,
      kind: 'flood',
      name: `Benchmark street gauge (as ${model.id})`,
      district: model.district,
      location: model.location,
      tags: model.tags,
      meta: model.meta,
    }),
    platform.registry.provisionServiceAccount({ id: PROBE_READER_ID }),
  ]);
  const topics = createTopics(platform.config.mqtt.topicPrefix);
  return {
    gauge: { id: PROBE_GAUGE_ID, secret: gauge.secret },
    reader: { id: PROBE_READER_ID, secret: reader.secret },
    telemetryTopic: topics.telemetry('flood', PROBE_GAUGE_ID),
    // Alert topics are <prefix>/alerts/<kind>/<device>/<rule> (docs/architecture.md): every rule of this gauge.
    alertFilter: `${topics.prefix}/alerts/flood/${PROBE_GAUGE_ID}/#`,
    api: {
      port: platform.apiPort,
      token: await platform.registry.createApiToken('engineer', 'bench alert probe'),
      agency: 'flood-control',
    },
  };
}

function coverage(rules: readonly LoadedRule[], device: DeviceRecord) {
  const selected = rules.filter(({ rule }) => selects(rule.select, device));
  const evaluated = selected.filter(
    ({ rule }) => whyNotApplicable(rule, { meta: device.meta }) === undefined,
  );
  return { selected: selected.map((r) => r.rule.id), evaluated: evaluated.map((r) => r.rule.id) };
}

/** Which loaded rules watch the first bench station, and the probe's gauge when there is one. */
export function ruleCoverage(platform: Platform, stationId: string, gaugeId?: string): RuleCoverage {
  const { rules } = platform.rules.status();
  const device = (id: string) => {
    const d = platform.registry.getDevice(id);
    if (d === undefined) throw new Error(`device ${id} is not provisioned`);
    return d;
  };
  const gauge = gaugeId === undefined ? undefined : coverage(rules, device(gaugeId));
  return {
    dir: platform.config.rules.dir,
    loaded: rules.length,
    station: coverage(rules, device(stationId)),
    ...(gauge === undefined ? {} : { gauge }),
  };
}
