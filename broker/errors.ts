// Stable codes for what the broker refuses. MQTT 3.1.1 has no way to tell a client why a PUBLISH or
// SUBSCRIBE was refused (MQTT-3.3.5-2): the broker closes the connection or answers SUBACK 0x80, and the
// code is what the log, the metrics and the operator see.

import { CodedError } from '../errors/index.ts';

export const BROKER_ERRORS = {
  BROKER_ERR_AUTH: 'unknown user name or wrong password (CONNACK 4)',
  BROKER_ERR_AUTH_BLOCKED:
    'too many failed CONNECTs from this address or for this user name: refused unchecked until the block ends (CONNACK 5)',
  BROKER_ERR_AUTH_BUSY:
    'the registry could not check the secret now (too many older hashes being upgraded, or it failed): try again later (CONNACK 3)',
  BROKER_ERR_CLIENT_ID: 'a device or gateway must connect with its own id as MQTT client id (CONNACK 2)',
  BROKER_ERR_ACL: 'the client may not publish to this topic; the connection is closed (MQTT-3.3.5-2)',
  BROKER_ERR_SUBSCRIBE_ACL: 'the client may not subscribe to this topic filter (SUBACK 0x80)',
  BROKER_ERR_PACKET_TOO_LARGE: 'a packet is larger than the configured maximum; the connection is closed',
  BROKER_ERR_PROXY_HEADER:
    'a connection without a valid PROXY protocol header while CITY_MQTT_PROXY_PROTOCOL is on: only the load balancer may connect; it is closed',
  BROKER_ERR_REDIS:
    'cluster mode: Redis (CITY_REDIS_URL) cannot be reached at start; the platform does not start',
  BROKER_ERR_UNAVAILABLE:
    'cluster mode: this node has lost Redis, so it cannot reach the other nodes; CONNECTs are refused (CONNACK 3) and clients closed until it answers again',
  BROKER_ERR_NOT_STORED:
    "the readings (or a flow's alert request) could not be stored durably; not acknowledged, the connection is closed",
} as const;

export type BrokerErrorCode = keyof typeof BROKER_ERRORS;

export class BrokerError extends CodedError<BrokerErrorCode> {
  override readonly name = 'BrokerError';
  /** CONNACK return code for refusals during CONNECT (MQTT 3.1.1 §3.2.2.3). */
  readonly returnCode?: number;

  constructor(
    code: BrokerErrorCode,
    message: string,
    options: { readonly cause?: unknown; readonly returnCode?: number } = {},
  ) {
    super(code, message, options);
    if (options.returnCode !== undefined) this.returnCode = options.returnCode;
  }
}
