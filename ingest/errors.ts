// Reason codes for readings the platform refuses. A refused message is data, not an exception: it is
// dead-lettered with one of these codes and counted (docs/conventions.md, "Errors and logs").
import { errorClass } from '../errors/index.ts';

/** Readings more than this far ahead of the receive time are refused: a device clock that is wrong. */
export const MAX_FUTURE_MS = 5 * 60 * 1000;
/** Readings older than this are refused: InfluxDB would accept them, but a year-old reading arriving
 * live is a device with a reset clock (RTC battery, epoch 1970/2000 defaults), not a delayed upload. */
export const MAX_AGE_MS = 365 * 24 * 60 * 60 * 1000;

export const INGEST_ERRORS = {
  INGEST_ERR_JSON: 'the payload is not well-formed UTF-8 JSON',
  INGEST_ERR_SENML: 'the payload is a JSON array but not valid SenML (RFC 8428)',
  INGEST_ERR_SCHEMA: "a value has the wrong type or shape, or none of the kind's required fields is present",
  INGEST_ERR_RANGE: "a value is outside the field's physical range (devices/kinds.ts)",
  INGEST_ERR_UNKNOWN_FIELD: "a field or SenML record name is not one of the kind's fields",
  INGEST_ERR_UNIT: 'a SenML unit is not one of those accepted for the field',
  INGEST_ERR_TIME:
    'a timestamp is unparseable, more than 5 minutes in the future (wrong device clock) or older than ' +
    'one year (a reset device clock, not a delayed upload)',
  INGEST_ERR_WRONG_DEVICE: 'a SenML record of a device payload names another device',
  INGEST_ERR_NOT_CHILD: "a gateway's SenML pack names a device that is not registered as its child",
  INGEST_ERR_UNKNOWN_DEVICE: 'the publishing device is not in the registry (or is decommissioned)',
  INGEST_ERR_TOO_LARGE: 'the payload is larger than the configured limit',
  INGEST_ERR_SPOOL_FULL: 'the durable spool is full; the publish is refused, not acknowledged',
  INGEST_ERR_SPOOL_IO: 'the durable spool could not be written; the publish is not acknowledged',
  INGEST_ERR_STATUS:
    'a status topic carried something other than online or offline; kept here, not forwarded nor retained',
  INGEST_ERR_DEAD_LETTER_IO:
    'a refused message could not be kept as a dead letter (the store cannot write: a full disk); the publish is not acknowledged, so the device sends it again',
  INGEST_ERR_INFLUX_REFUSED:
    'InfluxDB refused a batch for good (e.g. a field type conflict); the batch is kept here, not retried',
} as const;

export type IngestErrorCode = keyof typeof INGEST_ERRORS;

/** An ingest failure with its stable code and the cause kept. */
export class IngestError extends errorClass('IngestError', INGEST_ERRORS) {}
