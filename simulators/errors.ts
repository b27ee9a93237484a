// Error codes raised by the simulators, one table so that every code is documented and tested.
import { errorClass, isErrorOf } from '../errors/index.ts';

export const SIM_ERRORS = {
  SIM_ERR_CONFIG:
    'an option is out of range or the fleet does not fit together (unknown gateway, bad metadata)',
  SIM_ERR_CONNECT: 'a simulated device or gateway could not connect to the broker (refused or unreachable)',
  SIM_ERR_STATE: 'a call out of order: backfill after start, or use after close',
  SIM_ERR_NOT_LOOPBACK:
    'the load generator only targets a broker on this machine (127.0.0.1, ::1, localhost)',
  SIM_ERR_CREDENTIALS: 'the credentials file cannot be read or does not validate',
} as const;

export type SimErrorCode = keyof typeof SIM_ERRORS;

export class SimError extends errorClass('SimError', SIM_ERRORS) {}

export const isSimError = isErrorOf(SimError);
