// @ts-check
/* global require, module -- CommonJS for Node-RED's loader */
/* eslint-disable @typescript-eslint/no-require-imports -- Node-RED requires its nodes */
// One MQTT connection to the platform's broker, shared by every node that uses one `city-platform` config
// node: subscriptions are counted per topic filter and made again after each reconnect, publishes wait for
// the broker's PUBACK, and every change of the connection's state is told to the listeners (node status).
'use strict';

const mqtt = require('mqtt');
const { topicMatches } = require('./contract.js');

/**
 * @typedef {'connecting' | 'connected' | 'disconnected' | 'refused' | 'closed'} LinkState
 * @typedef {{ state: LinkState, detail?: string }} LinkStatus
 * @typedef {(topic: string, payload: Buffer) => void} MessageHandler
 * @typedef {(reason: string) => void} RefusalHandler
 * @typedef {{ onMessage: MessageHandler, onRefused: RefusalHandler }} Subscriber
 *
 * @typedef {object} LinkOptions
 * @property {string} url MQTT URL of the platform's broker
 * @property {string} account the service account (MQTT user name)
 * @property {string} secret its secret (MQTT password)
 * @property {string} clientSuffix makes the client id `<account>:<suffix>`, which the broker accepts
 * @property {number} [reconnectMs]
 *
 * @typedef {object} LinkLog
 * @property {(text: string) => void} warn
 *
 * @typedef {object} Link
 * @property {(filter: string, subscriber: Subscriber) => () => void} subscribe
 * @property {(topic: string, body: object) => Promise<void>} publish QoS 1; resolves on PUBACK
 * @property {(listener: (status: LinkStatus) => void) => () => void} onStatus
 * @property {() => LinkStatus} status
 * @property {() => Promise<void>} close safe to call twice
 */

/** MQTT 3.1.1 CONNACK return codes that no retry will change (MQTT-3.2.2.3). */
const REFUSALS = new Map([
  [2, 'client id refused'],
  [4, 'wrong account or secret'],
  [5, 'not authorised'],
]);
/** A SUBACK return code of 0x80 is a refused subscription (MQTT-3.9.3). */
const SUBACK_FAILURE = 0x80;

/**
 * @param {LinkOptions} options
 * @param {LinkLog} log
 * @returns {Link}
 */
function createLink(options, log) {
  /** @type {Map<string, Set<Subscriber>>} */
  const filters = new Map();
  /** @type {Set<(status: LinkStatus) => void>} */
  const listeners = new Set();
  /** @type {LinkStatus} */
  let current = { state: 'connecting' };
  /** @type {Promise<void> | undefined} */
  let closing;
  /** The last problem warned about: a broker that stays away is said once, not at every retry. */
  let lastWarning = '';

  const client = mqtt.connect(options.url, {
    username: options.account,
    password: options.secret,
    clientId: `${options.account}:${options.clientSuffix}`,
    protocolVersion: 4,
    clean: true,
    reconnectPeriod: options.reconnectMs ?? 5000,
    connectTimeout: 10_000,
    // Subscriptions are made again on every connect below, so a refused one is seen each time.
    resubscribe: false,
  });

  /** @param {LinkStatus} next */
  function setStatus(next) {
    if (next.state === current.state && next.detail === current.detail) return;
    current = next;
    for (const l of listeners) l(current);
  }

  /** @param {string} filter */
  function sendSubscribe(filter) {
    client.subscribe(filter, { qos: 0 }, (err, granted) => {
      const refused = err ?? granted?.find((g) => g.qos === SUBACK_FAILURE);
      if (!refused) return;
      const reason = err ? err.message : `subscription to ${filter} refused by the broker`;
      for (const s of filters.get(filter) ?? []) s.onRefused(reason);
    });
  }

  client.on('connect', () => {
    lastWarning = '';
    setStatus({ state: 'connected' });
    for (const filter of filters.keys()) sendSubscribe(filter);
  });
  client.on('reconnect', () => {
    if (current.state !== 'refused') setStatus({ state: 'connecting' });
  });
  client.on('close', () => {
    if (closing) setStatus({ state: 'closed' });
    else if (current.state !== 'refused') setStatus({ state: 'disconnected' });
  });
  client.on('error', (err) => {
    const code = /** @type {{ code?: unknown }} */ (err).code;
    const refusal = typeof code === 'number' ? REFUSALS.get(code) : undefined;
    if (refusal) setStatus({ state: 'refused', detail: refusal });
    else if (err.message !== lastWarning) {
      lastWarning = err.message;
      log.warn(`MQTT: ${err.message}`);
    }
  });
  // One message, once to each subscriber whose filters match it (the broker sends it once per client:
  // MQTT-3.3.5-1 allows one copy for overlapping subscriptions, and Aedes does that).
  client.on('message', (topic, payload) => {
    /** @type {Set<Subscriber>} */
    const reached = new Set();
    for (const [filter, subscribers] of filters) {
      if (topicMatches(filter, topic)) for (const s of subscribers) reached.add(s);
    }
    for (const s of reached) s.onMessage(topic, payload);
  });

  return {
    subscribe(filter, subscriber) {
      let set = filters.get(filter);
      if (!set) {
        set = new Set();
        filters.set(filter, set);
        if (client.connected) sendSubscribe(filter);
      }
      set.add(subscriber);
      return () => {
        const s = filters.get(filter);
        if (!s?.delete(subscriber) || s.size > 0) return;
        filters.delete(filter);
        if (client.connected) client.unsubscribe(filter);
      };
    },
    publish(topic, body) {
      return new Promise((resolve, reject) => {
        client.publish(topic, JSON.stringify(body), { qos: 1 }, (err) => (err ? reject(err) : resolve()));
      });
    },
    onStatus(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    status: () => current,
    close() {
      closing ??= new Promise((resolve) => {
        // Connected: not forced, so publishes waiting for their PUBACK may finish. Away: nothing can.
        client.end(!client.connected, {}, () => resolve());
      });
      return closing;
    },
  };
}

module.exports = { createLink };
