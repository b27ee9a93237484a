// The measurements the platform writes about itself, for Grafana, whose one data source is InfluxDB: a
// `platform` point (and `rejections` points) every CITY_HEALTH_INTERVAL_MS, a `device_status` point per
// registered device every CITY_STATUS_INTERVAL_MS (platform/health-points.ts writes them).
import { numberField, textField, type MeasurementSpec } from './spec.ts';

/** The measurements the platform writes about itself: the one definition the writer and dashboards read. */
export const HEALTH_MEASUREMENTS = {
  platform: {
    name: 'platform',
    tags: ['host'],
    fields: {
      readings: numberField('', 'short', 'Readings accepted into the spool during the interval'),
      readings_per_s: numberField('1/s', 'recps', 'Readings accepted per second over the interval'),
      stored: numberField(
        '',
        'short',
        'Lines InfluxDB confirmed during the interval: readings, and the alert events, air-quality indices and health points that share the spool',
      ),
      rejected: numberField(
        '',
        'short',
        'Messages refused by ingest during the interval (all kinds and reasons)',
      ),
      write_failures: numberField(
        '',
        'short',
        'InfluxDB writes that failed during the interval (each is retried)',
      ),
      spool_lines: numberField('', 'short', 'Lines in the spool not yet confirmed by InfluxDB, at the point'),
      spool_bytes: numberField(
        'B',
        'bytes',
        'Bytes in the spool not yet confirmed by InfluxDB, at the point',
      ),
      clients: numberField('', 'short', 'MQTT clients connected, at the point'),
      write_ms_mean: numberField(
        'ms',
        'ms',
        'Mean time for InfluxDB to confirm a batch over the interval; absent when none was confirmed',
      ),
      write_ms_max: numberField(
        'ms',
        'ms',
        'Longest time for InfluxDB to confirm a batch over the interval; absent when none was confirmed',
      ),
      open_alerts: numberField('', 'short', 'Alerts open or acknowledged, at the point'),
      event_loop_lag_ms_p99: numberField(
        'ms',
        'ms',
        "99th percentile of how late the event loop ran over the interval, beyond its 10 ms sampling period: the platform's own delay added to every message",
      ),
      event_loop_lag_ms_max: numberField('ms', 'ms', 'Longest event-loop delay over the interval'),
    },
  },
  rejections: {
    name: 'rejections',
    /** `reason` is the ingest error code (INGEST_ERR_RANGE...); `kind` is `unknown` when none was found. */
    tags: ['kind', 'reason'],
    fields: {
      count: numberField('', 'short', 'Messages refused with this kind and reason during the interval'),
    },
  },
  device_status: {
    name: 'device_status',
    tags: ['device', 'kind', 'district'],
    fields: {
      name: textField('The device name in the registry'),
      lat: numberField('°', 'degree', 'Latitude (WGS 84)'),
      lon: numberField('°', 'degree', 'Longitude (WGS 84)'),
      status: textField('ok, alerting (an open alert), or silent (an open alert of an absence rule)'),
      status_code: numberField('', 'none', '0 ok, 1 alerting, 2 silent: for colouring'),
      open_alerts: numberField('', 'short', 'Alerts of the device open or acknowledged'),
      sun_altitude_deg: numberField('°', 'degree', "The sun's altitude at the device, at the point"),
    },
  },
} as const satisfies Record<string, MeasurementSpec>;

/** A device's status; its index is `status_code`. Silent wins over alerting: no data hides the rest. */
export const DEVICE_STATUSES = ['ok', 'alerting', 'silent'] as const;
export type DeviceStatusName = (typeof DEVICE_STATUSES)[number];
