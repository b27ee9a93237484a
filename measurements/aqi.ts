// The `aqi` measurement: each air-quality station's hourly index, VN_AQI and US EPA AQI, written by the
// rules engine when an hour completes (rules/engine/aqi-writer.ts), at the start of the next hour.
import { numberField, textField, type MeasurementSpec } from './spec.ts';

/** Field names, one set per index, for the writer and the dashboards alike. */
export const AQI_FIELDS = {
  vn: { aqi: 'vn_aqi', category: 'vn_category', dominant: 'vn_dominant' },
  us: { aqi: 'us_aqi', category: 'us_category', dominant: 'us_dominant' },
} as const;

const index = (name: string) => ({
  aqi: numberField('', 'none', `${name}, a whole number`),
  category: textField(`${name} category key`),
  dominant: textField(`The pollutant with the highest ${name} sub-index`),
});
const vn = index('VN_AQI (Decision 1459/QĐ-TCMT)');
const us = index('US EPA AQI');

export const AQI = {
  name: 'aqi',
  tags: ['device', 'district'],
  fields: {
    [AQI_FIELDS.vn.aqi]: vn.aqi,
    [AQI_FIELDS.vn.category]: vn.category,
    [AQI_FIELDS.vn.dominant]: vn.dominant,
    [AQI_FIELDS.us.aqi]: us.aqi,
    [AQI_FIELDS.us.category]: us.category,
    [AQI_FIELDS.us.dominant]: us.dominant,
  },
} as const satisfies MeasurementSpec;
