// Who listens for each device's commands: the device, or its gateway, subscribed to its commands topic.
// The command service sends a command at once to a device that listens, and what waits for a device when
// its topic gains a listener (it came back).
import type { Client } from 'aedes';
import type { Kind, Topics } from '../devices/index.ts';

export function createCommandListeners(topics: Topics, onListener: (device: string) => void) {
  /** Clients subscribed to each commands topic, and each client's (to forget a client at once). */
  const byTopic = new Map<string, Set<Client>>();
  const byClient = new Map<Client, Set<string>>();

  return {
    /** Subscriptions in place (Aedes' `subscribe` event): the listeners of commands topics among them. */
    subscribed(client: Client, filters: readonly string[]): void {
      for (const topic of filters) {
        const parsed = topics.parse(topic);
        if (parsed?.type !== 'device' || parsed.channel !== 'commands') continue;
        let listeners = byTopic.get(topic);
        if (listeners === undefined) byTopic.set(topic, (listeners = new Set()));
        listeners.add(client);
        let mine = byClient.get(client);
        if (mine === undefined) byClient.set(client, (mine = new Set()));
        mine.add(topic);
        onListener(parsed.device);
      }
    },
    unsubscribed(client: Client, filters: readonly string[]): void {
      for (const f of filters) {
        byTopic.get(f)?.delete(client);
        byClient.get(client)?.delete(f);
      }
    },
    gone(client: Client): void {
      for (const topic of byClient.get(client) ?? []) byTopic.get(topic)?.delete(client);
      byClient.delete(client);
    },
    listens: (kind: Kind, device: string): boolean =>
      (byTopic.get(topics.commands(kind, device))?.size ?? 0) > 0,
  };
}
