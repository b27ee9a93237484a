// Who subscribes to the decoded readings: the platform publishes them only while someone does.
import type { Client } from 'aedes';
import type { Topics } from '../devices/index.ts';

/**
 * The connected clients whose subscriptions match some readings topic, and a flag told to the platform
 * when that set becomes empty or stops being so. Aedes authorizes every subscription, restored sessions'
 * included, so the authorization hook sees each; UNSUBSCRIBE and a client's end take them away (a
 * persistent session's subscriptions outlive the connection, but QoS 0 readings never reach it offline).
 */
export function createReadingsReaders(topics: Topics, onWanted: (wanted: boolean) => void) {
  const filters = new Map<Client, Set<string>>();
  let wanted = false;

  function update(): void {
    // A client closed while its subscription was being authorized is never told gone: drop it here.
    for (const [client, set] of filters) if (client.closed || set.size === 0) filters.delete(client);
    const now = filters.size > 0;
    if (now === wanted) return;
    wanted = now;
    onWanted(now);
  }

  return {
    subscribed(client: Client, filter: string): void {
      if (!topics.coversReadings(filter)) return;
      const set = filters.get(client) ?? new Set<string>();
      set.add(filter);
      filters.set(client, set);
      update();
    },
    unsubscribed(client: Client, gone: readonly string[]): void {
      const set = filters.get(client);
      if (set === undefined) return;
      for (const f of gone) set.delete(f);
      update();
    },
    gone(client: Client): void {
      if (filters.delete(client)) update();
    },
  };
}
