// What the simulated devices put on the wire: a JSON object per device, a SenML pack per gateway
// (docs/architecture.md, "Payloads"). Pure.
import { fieldSpec, type Kind } from '../devices/index.ts';
import type { SimFields } from './models/index.ts';

/** A device's JSON payload: its fields and `ts` in epoch ms. */
export function devicePayload(fields: SimFields, ts: number): string {
  return JSON.stringify({ ...fields, ts: Math.round(ts) });
}

export interface GatewayChildReading {
  readonly id: string;
  readonly kind: Kind;
  readonly fields: SimFields;
}

interface SenmlOut {
  bt?: number;
  n: string;
  u?: string;
  v?: number;
  vb?: boolean;
}

/** The SenML unit the field is sent in: the first one whose factor to the contract unit is 1. */
function senmlUnit(kind: Kind, field: string): string | undefined {
  const spec = fieldSpec(kind, field);
  if (!spec) return undefined;
  const unit = Object.entries(spec.senml).find(([, factor]) => factor === 1)?.[0];
  return unit === '' ? undefined : unit;
}

/**
 * One SenML pack (RFC 8428) for a gateway's children measured at `ts`: record names `<deviceId>/<field>`,
 * the time once as the base time `bt` in seconds (§4.5.3) on the first record.
 */
export function gatewayPack(children: readonly GatewayChildReading[], ts: number): string {
  const records: SenmlOut[] = [];
  for (const child of children) {
    for (const [field, value] of Object.entries(child.fields)) {
      const record: SenmlOut = { n: `${child.id}/${field}` };
      const unit = senmlUnit(child.kind, field);
      if (unit !== undefined) record.u = unit;
      if (typeof value === 'boolean') record.vb = value;
      else record.v = value;
      records.push(record);
    }
  }
  const [first, ...rest] = records;
  return JSON.stringify(first ? [{ bt: Math.round(ts) / 1000, ...first }, ...rest] : []);
}
