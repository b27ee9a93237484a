// Zod schemas for what devices send and what the registry keeps about them. The payload schemas are
// derived from FIELDS (kinds.ts), so a field added there is accepted here, with its range, at once.
import { z } from 'zod';
import { FIELDS, REQUIRED_ONE_OF, type FieldSpec, type Kind } from './kinds.ts';

/** Device, gateway and service-account ids: safe as one MQTT topic level, an InfluxDB tag and a URL segment. */
export const DEVICE_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
export const DeviceId = z
  .string()
  .regex(DEVICE_ID_PATTERN, 'letters, digits, _ . - (1–64, first alphanumeric)');

/** `ts`: RFC 3339 with an offset (`Z` or `±hh:mm`), or epoch milliseconds. */
export const Timestamp = z.union([z.iso.datetime({ offset: true }), z.number().int().nonnegative()]);

type FieldSchema<S> = S extends { readonly type: 'boolean' }
  ? z.ZodOptional<z.ZodBoolean>
  : z.ZodOptional<z.ZodNumber>;
type PayloadShape<K extends Kind> = {
  -readonly [F in keyof (typeof FIELDS)[K]]: FieldSchema<(typeof FIELDS)[K][F]>;
} & {
  ts: z.ZodOptional<typeof Timestamp>;
};

function fieldSchema(spec: FieldSpec): z.ZodOptional<z.ZodBoolean> | z.ZodOptional<z.ZodNumber> {
  if (spec.type === 'boolean') return z.boolean().optional();
  let n = z.number();
  if (spec.min !== undefined) n = n.min(spec.min);
  if (spec.max !== undefined) n = n.max(spec.max);
  return n.optional();
}

function payloadShape<K extends Kind>(kind: K): PayloadShape<K> {
  const shape: Record<string, z.ZodType> = { ts: Timestamp.optional() };
  for (const [name, spec] of Object.entries<FieldSpec>(FIELDS[kind])) shape[name] = fieldSchema(spec);
  // The loop builds exactly the mapped type from the same FIELDS entries; TypeScript cannot follow a loop.
  return shape as PayloadShape<K>;
}

/** Message used when none of REQUIRED_ONE_OF is present; decode maps it to INGEST_ERR_SCHEMA. */
export const REQUIRED_ONE_OF_MESSAGE = 'none of the required fields is present';

function payloadSchema<K extends Kind>(kind: K) {
  const required = REQUIRED_ONE_OF[kind];
  return z
    .strictObject(payloadShape(kind))
    .refine((p: Record<string, unknown>) => required.some((f) => p[f] !== undefined), {
      message: `${REQUIRED_ONE_OF_MESSAGE}: one of ${required.join(', ')}`,
    });
}

export const AirQualityPayload = payloadSchema('air_quality');
export type AirQualityPayload = z.infer<typeof AirQualityPayload>;
export const FloodPayload = payloadSchema('flood');
export type FloodPayload = z.infer<typeof FloodPayload>;
export const StreetlightPayload = payloadSchema('streetlight');
export type StreetlightPayload = z.infer<typeof StreetlightPayload>;

export const PAYLOAD_SCHEMAS: Readonly<Record<Kind, z.ZodType>> = {
  air_quality: AirQualityPayload,
  flood: FloodPayload,
  streetlight: StreetlightPayload,
};

// ---- registry metadata, per kind ----

export const AirQualityMeta = z.strictObject({ address: z.string().min(1).max(200).optional() });
export type AirQualityMeta = z.infer<typeof AirQualityMeta>;

export const FloodMeta = z.strictObject({
  station: z.string().min(1).max(100).optional(),
  river: z.string().min(1).max(100).optional(),
  national_id: z.string().min(1).max(32).optional(),
  type: z.enum(['river', 'street', 'rain']),
  /** The street a street gauge stands in: a rule's command may go to that street's lamps. */
  street: z.string().min(1).max(100).optional(),
  /** Elevation of the gauge above the level datum: level = datum − distance (docs/domain.md, "Flood"). */
  datum_m: z.number().min(-100).max(1000).optional(),
  /** Alarm levels BĐ1, BĐ2, BĐ3 in metres (docs/domain.md); strictly ascending. */
  alarm_levels_m: z
    .tuple([z.number(), z.number(), z.number()])
    .refine(([a, b, c]) => a < b && b < c, { message: 'alarm levels must ascend' })
    .optional(),
});
export type FloodMeta = z.infer<typeof FloodMeta>;

export const StreetlightMeta = z.strictObject({
  street: z.string().min(1).max(100),
  rated_w: z.number().positive().max(5_000),
  /** Power tolerance around the rated wattage for lampPowerTooHigh/TooLow (TALQ); 10 % unless set. */
  tolerance_pct: z.number().min(0).max(100).default(10),
  lamp_type: z.string().min(1).max(100).optional(),
});
export type StreetlightMeta = z.infer<typeof StreetlightMeta>;

export const META_SCHEMAS = {
  air_quality: AirQualityMeta,
  flood: FloodMeta,
  streetlight: StreetlightMeta,
} as const satisfies Record<Kind, z.ZodType>;

export const Location = z.strictObject({
  lat: z.number().min(-90).max(90),
  lon: z.number().min(-180).max(180),
});
export type Location = z.infer<typeof Location>;

const Name = z.string().trim().min(1).max(200);
// No control characters or backslashes: the district is an InfluxDB tag, and line protocol cannot carry
// them the same way on 1.x, 2.x and 3.x (influx/line-protocol.ts).
const District = z
  .string()
  .trim()
  .min(1)
  .max(100)
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
  .regex(/^[^\u0000-\u001f\u007f\\]+$/, 'no control characters or backslashes');
const Tags = z.array(z.string().min(1).max(64)).max(32);

const inputCommon = {
  id: DeviceId,
  name: Name,
  district: District,
  location: Location,
  gateway: DeviceId.optional(),
  tags: Tags.default([]),
};

/** Body of device provisioning (docs/architecture.md, "Provisioning"); `meta` is checked against the kind. */
export const DeviceInput = z.discriminatedUnion('kind', [
  z.strictObject({ ...inputCommon, kind: z.literal('air_quality'), meta: AirQualityMeta.default({}) }),
  z.strictObject({ ...inputCommon, kind: z.literal('flood'), meta: FloodMeta }),
  z.strictObject({ ...inputCommon, kind: z.literal('streetlight'), meta: StreetlightMeta }),
]);
export type DeviceInput = z.input<typeof DeviceInput>;
export type ParsedDeviceInput = z.output<typeof DeviceInput>;

/** What may change after provisioning; `gateway: null` detaches the device. The kind never changes. */
export const DevicePatch = z.strictObject({
  name: Name.optional(),
  district: District.optional(),
  location: Location.optional(),
  gateway: DeviceId.nullable().optional(),
  meta: z.record(z.string(), z.unknown()).optional(),
  tags: Tags.optional(),
});
export type DevicePatch = z.input<typeof DevicePatch>;

/**
 * A device in maintenance until a time: its alerts are still raised and shown, but their notifications
 * are held until then (and sent if still open), as a silence holds them.
 */
export const Maintenance = z.strictObject({
  until: z.iso.datetime({ offset: true, error: 'an RFC 3339 time, such as 2026-10-28T18:00:00+07:00' }),
  reason: z.string().trim().min(1).max(500),
});
export type Maintenance = z.infer<typeof Maintenance>;
/** A maintenance window as the registry keeps it: with who set it. */
export const DeviceMaintenance = Maintenance.extend({ by: z.string() });
export type DeviceMaintenance = z.infer<typeof DeviceMaintenance>;

export const DeviceStatus = z.enum(['active', 'decommissioned']);
export type DeviceStatus = z.infer<typeof DeviceStatus>;

const recordCommon = {
  id: z.string(),
  name: z.string(),
  district: z.string(),
  location: Location,
  gateway: z.string().optional(),
  tags: z.array(z.string()),
  status: DeviceStatus,
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
  /** Set while the device is (or was last put) in maintenance; its `until` says whether it still is. */
  maintenance: DeviceMaintenance.optional(),
};

/** A device as the registry returns it (and the API shows it); never carries the secret. */
export const DeviceRecord = z.discriminatedUnion('kind', [
  z.object({ ...recordCommon, kind: z.literal('air_quality'), meta: AirQualityMeta }),
  z.object({ ...recordCommon, kind: z.literal('flood'), meta: FloodMeta }),
  z.object({ ...recordCommon, kind: z.literal('streetlight'), meta: StreetlightMeta }),
]);
export type DeviceRecord = z.infer<typeof DeviceRecord>;

export const GatewayInput = z.strictObject({
  id: DeviceId,
  name: Name,
  district: District,
  location: Location,
});
export type GatewayInput = z.infer<typeof GatewayInput>;

/** What may change of a gateway; its children change on the devices (PATCH a device's `gateway`). */
export const GatewayPatch = z.strictObject({
  name: Name.optional(),
  district: District.optional(),
  location: Location.optional(),
});
export type GatewayPatch = z.input<typeof GatewayPatch>;

export const GatewayRecord = z.object({
  id: z.string(),
  name: z.string(),
  district: z.string(),
  location: Location,
  /** Ids of the active devices registered behind this gateway. */
  children: z.array(z.string()),
  createdAt: z.iso.datetime(),
});
export type GatewayRecord = z.infer<typeof GatewayRecord>;

export const ServiceAccountInput = z.strictObject({
  id: DeviceId,
  mayPublishAlerts: z.boolean().default(false),
});
export type ServiceAccountInput = z.input<typeof ServiceAccountInput>;

export const ServiceAccountPatch = z.strictObject({ mayPublishAlerts: z.boolean() });
export type ServiceAccountPatch = z.input<typeof ServiceAccountPatch>;

/** A service account as the registry returns it; never carries the secret. */
export const ServiceAccountRecord = z.object({
  id: z.string(),
  /** May ask the platform to raise and clear alerts (city/alerts/…); Node-RED's account may. */
  mayPublishAlerts: z.boolean(),
  createdAt: z.iso.datetime(),
});
export type ServiceAccountRecord = z.infer<typeof ServiceAccountRecord>;

export const ApiRole = z.enum(['viewer', 'operator', 'engineer', 'admin']);
export type ApiRole = z.infer<typeof ApiRole>;
