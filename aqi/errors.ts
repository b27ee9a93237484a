// Error codes of the air-quality index module (docs/conventions.md, "Errors and logs": one table per
// component, codes stable). The index functions themselves raise nothing: a value they cannot index
// gives `undefined`. Only a bad accumulator configuration or a persisted state that does not validate
// is an error.
import { errorClass, isErrorOf } from '../errors/index.ts';

export const AQI_ERRORS = {
  AQI_ERR_RETAIN_HOURS: 'the hourly accumulator must retain a whole number of hours between 12 and 48',
  AQI_ERR_STATE: 'a persisted hourly accumulator state does not validate',
} as const;

export type AqiErrorCode = keyof typeof AQI_ERRORS;

export class AqiError extends errorClass('AqiError', AQI_ERRORS) {}

export const isAqiError = isErrorOf(AqiError);
