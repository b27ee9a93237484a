// Aedes' authenticate hook: a CONNECT's credentials checked against the registry, within the failed-attempt
// limits (attempts.ts), its client id held to its principal, and every refusal reported with the address
// it came from. A CONNECT refused because of a block is only counted: the block is logged and told once,
// when it starts.
import type { Socket } from 'node:net';
import type { Client } from 'aedes';
import type { Principal } from '../devices/index.ts';
import { errorText } from '../errors/index.ts';
import { isBlocked, type AttemptLimiter } from './attempts.ts';
import { proxiedAddress } from './proxy-protocol.ts';
import { BrokerError, type BrokerErrorCode } from './errors.ts';
import type { BrokerMetrics, ReportRefusal } from './refusals.ts';

export interface ConnectAuthDeps {
  readonly attempts: AttemptLimiter;
  readonly metrics: BrokerMetrics;
  readonly report: ReportRefusal;
  /** The registry's check of a user name and password. */
  readonly authenticate: (username: string, password: Buffer) => Promise<Principal | undefined>;
  /** Told of each client accepted, with the principal it authenticated as. */
  readonly accepted: (client: Client, principal: Principal) => void;
  /** Why this node cannot serve clients now (a cluster node without Redis), or undefined when it can. */
  readonly unavailable?: () => string | undefined;
}

type Done = (error: (Error & { returnCode: number }) | null, success: boolean | null) => void;

export function createConnectAuth(deps: ConnectAuthDeps) {
  const { attempts, metrics, report } = deps;

  return function authenticate(
    client: Client,
    username: string | undefined,
    password: Readonly<Buffer> | undefined,
    done: Done,
  ): void {
    const refuse = (code: BrokerErrorCode, returnCode: number, why: string) =>
      done(Object.assign(new BrokerError(code, why, { returnCode }), { returnCode }), false);
    const address = addressOf(client);
    const at = (why: string, counted = true) => ({
      log: { clientId: client.id, username },
      source: username || client.id,
      detail: `${why} (from ${address ?? 'an unknown address'})`,
      counted,
    });
    const fail = (code: BrokerErrorCode, returnCode: number, why: string) => {
      report(code, why, at(why));
      refuse(code, returnCode, why);
    };
    const down = deps.unavailable?.();
    if (down !== undefined) {
      // Counted, not reported one by one: every device of the node comes back during an outage.
      metrics.refused('BROKER_ERR_UNAVAILABLE');
      return refuse('BROKER_ERR_UNAVAILABLE', 3, down);
    }
    const attempt = attempts.admit(address, username);
    if (isBlocked(attempt)) {
      metrics.refused('BROKER_ERR_AUTH_BLOCKED');
      return refuse('BROKER_ERR_AUTH_BLOCKED', 5, `too many failed attempts for this ${attempt.by}`);
    }
    const failedAuth = (why: string) => {
      const block = attempt.failed();
      if (block) {
        const seconds = Math.ceil((block.untilMs - Date.now()) / 1000);
        const note = `further CONNECTs refused for ${seconds} s (this ${block.by})`;
        report('BROKER_ERR_AUTH_BLOCKED', 'failed CONNECTs: blocking further attempts', {
          ...at(note, false),
          log: { address, username, by: block.by, seconds },
        });
      }
      fail('BROKER_ERR_AUTH', 4, why);
    };
    if (!username || !password) return failedAuth('connection without credentials refused');
    deps.authenticate(username, password).then(
      (principal) => {
        if (!principal) return failedAuth('wrong credentials');
        attempt.succeeded();
        if (!clientIdFits(principal, client.id)) {
          return fail('BROKER_ERR_CLIENT_ID', 2, 'client id must be the device or gateway id');
        }
        deps.accepted(client, principal);
        done(null, true);
      },
      (err: unknown) => {
        // Not the client's failure: the registry could not check now (busy upgrading older hashes, or
        // failing). CONNACK 3 tells the device to come back later.
        attempt.abandon();
        fail('BROKER_ERR_AUTH_BUSY', 3, `the secret could not be checked now: ${errorText(err)}`);
      },
    );
  };
}

/**
 * The client's IP address: the one a load balancer's PROXY header gave, else the TCP or TLS socket's, or
 * the WebSocket upgrade request's.
 */
function addressOf(client: Client): string | undefined {
  const conn = client.conn as Partial<Pick<Socket, 'remoteAddress'>>;
  return proxiedAddress(client.conn) ?? conn.remoteAddress ?? client.req?.socket.remoteAddress;
}

function clientIdFits(principal: Principal, clientId: string): boolean {
  if (principal.type === 'device') return clientId === principal.device.id;
  if (principal.type === 'gateway') return clientId === principal.gatewayId;
  // Several consumers may share a service account (Node-RED, a second dashboard): `<id>` or `<id>:<any>`.
  return clientId === principal.id || clientId.startsWith(`${principal.id}:`);
}
