// The models' entry inside simulators/: one model per device, chosen by kind.
import { FloodMeta, StreetlightMeta, type Kind } from '../../devices/index.ts';
import { createAirQualityModel } from './air-quality.ts';
import { createFloodModel } from './flood.ts';
import { createStreetlightModel, type LampControl } from './streetlight.ts';
import type { Model, Scenario, StoryRole } from './time.ts';

export * from './time.ts';
export { hashSeed, mulberry32 } from './prng.ts';
export {
  airQualityAt,
  createAirQualityModel,
  EPISODE_SCENARIO,
  episodeLevel,
  type AirQualityOptions,
} from './air-quality.ts';
export {
  createFloodModel,
  FLOOD_RAIN_MMPH,
  FLOOD_RATES,
  FLOOD_SCENARIO_MS,
  hydrograph,
  RAIN_TIP_MM,
  riverProfile,
  type FloodGaugeMeta,
  type FloodOptions,
  type FloodState,
} from './flood.ts';
export {
  activeFault,
  faultAt,
  createStreetlightModel,
  isSunDown,
  schedule,
  type StreetlightFault,
  newLampControl,
  type LampControl,
  type StreetlightOptions,
  type StreetlightState,
} from './streetlight.ts';

export interface ModelTarget {
  readonly id: string;
  readonly kind: Kind;
  readonly location: { readonly lat: number; readonly lon: number };
  /** Registry metadata, parsed here against the kind's schema (devices/schemas.ts). */
  readonly meta?: unknown;
}

export interface ModelSettings {
  readonly seed: number;
  readonly scenario: Scenario;
  readonly faultsPerDay?: number;
  readonly episodesPerDay?: number;
  /** Its part in the city story (a streetlight's setting). */
  readonly storyRole?: StoryRole | undefined;
  /** A streetlight's controller, as the platform's commands set it. */
  readonly control?: LampControl;
}

/** Builds the device's model. Throws a ZodError when the metadata does not fit the kind. */
export function createDeviceModel(device: ModelTarget, settings: ModelSettings): Model<unknown> {
  const { seed, scenario } = settings;
  switch (device.kind) {
    case 'air_quality':
      return erase(
        createAirQualityModel({
          seed,
          scenario,
          deviceId: device.id,
          episodesPerDay: settings.episodesPerDay,
        }),
      );
    case 'flood':
      return erase(
        createFloodModel({ seed, scenario, deviceId: device.id, meta: FloodMeta.parse(device.meta) }),
      );
    case 'streetlight':
      return erase(
        createStreetlightModel({
          seed,
          deviceId: device.id,
          location: device.location,
          meta: StreetlightMeta.parse(device.meta),
          faultsPerDay: settings.faultsPerDay,
          scenario,
          storyRole: settings.storyRole,
          ...(settings.control === undefined ? {} : { control: settings.control }),
        }),
      );
  }
}

/** Hides a model's state type: callers only thread the state they were given back in. */
function erase<S>(model: Model<S>): Model<unknown> {
  return model;
}
