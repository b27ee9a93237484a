// Error codes of the alert lifecycle (CONVENTIONS.md, "Errors and logs": one table, codes stable). The API
// answers an operator's action on a missing alert with 404 and on an alert in the wrong state with 409;
// a store failure is the platform's problem, not the caller's.

export const ALERTS_ERRORS = {
  ALERTS_ERR_NOT_FOUND: 'no alert has this id',
  ALERTS_ERR_STATE:
    'the alert is not in a state that allows this action (acknowledge needs open, resolve needs open or acknowledged)',
  ALERTS_ERR_INVALID:
    'a trigger, filter or saved state does not validate (bad time, value, severity or JSON)',
  ALERTS_ERR_STORE: 'the alert database could not be opened, migrated, read or written',
  ALERTS_ERR_CLOSED: 'the alert store was used after close()',
} as const;

export type AlertsErrorCode = keyof typeof ALERTS_ERRORS;

export class AlertsError extends Error {
  override readonly name = 'AlertsError';
  readonly code: AlertsErrorCode;

  constructor(code: AlertsErrorCode, detail?: string, options?: { cause?: unknown }) {
    super(detail === undefined ? ALERTS_ERRORS[code] : `${ALERTS_ERRORS[code]}: ${detail}`, options);
    this.code = code;
  }
}

export function isAlertsError(err: unknown, code?: AlertsErrorCode): err is AlertsError {
  return err instanceof AlertsError && (code === undefined || err.code === code);
}
