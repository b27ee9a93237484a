// Each air-quality station's hourly index, written to InfluxDB as fields of the `aqi` measurement
// (vn_aqi, vn_category, vn_dominant, us_aqi, ...; aqi/station.ts). The index is computed from
// completed clock hours (Decision 1459's c1 is a completed hour), so it changes once an hour: a point is
// written when a station's first reading of a new hour arrives, stamped at the start of that hour, from
// the hours before it. Recomputing the same hour writes the same point, so a replay is harmless.
import { z } from 'zod';
import { type Reading } from '../../devices/index.ts';
import { encodeLine, encodeTags } from '../../influx/index.ts';
import {
  hourStart,
  stationFields,
  stationIndex,
  stationInit,
  stationReading,
  StationState,
} from '../../aqi/index.ts';
import type { SavedState } from '../../alerts/index.ts';
import type { RuleDevice } from './rule-device.ts';
import { AQI, MEASUREMENTS } from '../../measurements/index.ts';

/** The saved-state key of a station's hourly means; `$` cannot start a rule id, so it never collides. */
export const STATION_STATE_KEY = '$aqi';

const SavedStation = z.object({ hour: z.number().int().nonnegative(), station: StationState });

interface Station {
  state: StationState;
  /** The hour of the latest reading seen. */
  hour: number;
  dirty: boolean;
}

export interface AqiWriter {
  onReading(reading: Reading, device: RuleDevice): void;
  restore(saved: readonly SavedState[]): void;
  takeDirty(): SavedState[];
  all(): SavedState[];
}

export function createAqiWriter(append: (line: string) => void): AqiWriter {
  const stations = new Map<string, Station>();
  const saved = (device: string, s: Station): SavedState => ({
    rule: STATION_STATE_KEY,
    device,
    state: { hour: s.hour, station: s.state },
  });

  return {
    onReading(reading, device) {
      if (reading.kind !== MEASUREMENTS.air_quality) return;
      let s = stations.get(device.id);
      if (s === undefined) {
        s = { state: stationInit(), hour: 0, dirty: true };
        stations.set(device.id, s);
      }
      const hour = hourStart(reading.time);
      if (hour > s.hour && s.hour !== 0) {
        const index = stationIndex(s.state, hour);
        const fields = index && stationFields(index);
        if (fields && Object.keys(fields).length > 0)
          append(
            encodeLine(AQI.name, encodeTags({ device: device.id, district: device.district }), fields, hour) +
              '\n',
          );
      }
      if (hour > s.hour) s.hour = hour;
      const next = stationReading(s.state, reading);
      if (next !== s.state) {
        s.state = next;
        s.dirty = true;
      }
    },
    restore(list) {
      for (const { rule, device, state } of list) {
        if (rule !== STATION_STATE_KEY) continue;
        const parsed = SavedStation.safeParse(state);
        if (parsed.success)
          stations.set(device, { state: parsed.data.station, hour: parsed.data.hour, dirty: false });
      }
    },
    takeDirty() {
      const out: SavedState[] = [];
      for (const [id, s] of stations)
        if (s.dirty) {
          s.dirty = false;
          out.push(saved(id, s));
        }
      return out;
    },
    all: () => [...stations].map(([id, s]) => saved(id, s)),
  };
}
