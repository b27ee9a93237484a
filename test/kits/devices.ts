// Registry records for tests that need a device without a registry: active, in Phú Xuân, made on
// 1 January 2026; the kind and its metadata are the caller's.
import type { DeviceRecord } from '../../devices/index.ts';

type KindAndMeta =
  | Pick<Extract<DeviceRecord, { kind: 'flood' }>, 'kind' | 'meta'>
  | Pick<Extract<DeviceRecord, { kind: 'air_quality' }>, 'kind' | 'meta'>
  | Pick<Extract<DeviceRecord, { kind: 'streetlight' }>, 'kind' | 'meta'>;

export function deviceRecord(id: string, name: string, kindAndMeta: KindAndMeta): DeviceRecord {
  return {
    id,
    name,
    district: 'Phú Xuân',
    location: { lat: 16.47, lon: 107.58 },
    tags: [],
    status: 'active',
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:00.000Z',
    ...kindAndMeta,
  } as const satisfies DeviceRecord;
}
