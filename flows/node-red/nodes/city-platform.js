// @ts-check
/* global require, module, fetch, URL, AbortSignal -- CommonJS for Node-RED's loader */
/* eslint-disable @typescript-eslint/no-require-imports -- Node-RED requires its nodes */
/* eslint @typescript-eslint/no-this-alias: ["error", { "allowedNames": ["node"] }] */
// `city-platform`: the configuration node every other node of this package points at. It holds where the
// platform is (MQTT broker, HTTP API) and who the flows are to it (a service account: it may read
// readings and alerts and ask for alerts to be raised and cleared, never publish as a device). One MQTT
// connection per config node, opened when the first node uses it and shared by all of them.
// Each setting left empty in the editor comes from the start command (`npm run node-red`), which passes
// what the environment says as the `cityPlatform` runtime setting: secrets need not sit in flow files.
'use strict';

const crypto = require('node:crypto');
const { createLink } = require('./lib/link.js');
const { DEFAULT_PREFIX, prefixProblem } = require('./lib/contract.js');
const { linkStatus, problemStatus } = require('./lib/red.js');

/**
 * What the start command passes as the `cityPlatform` runtime setting.
 * @typedef {object} PlatformDefaults
 * @property {string} [mqttUrl]
 * @property {string} [account]
 * @property {string} [secret]
 * @property {string} [prefix]
 * @property {string} [apiUrl]
 * @property {string} [apiToken]
 */

/**
 * What a node gets from its config node.
 * @typedef {object} PlatformUse
 * @property {string} prefix
 * @property {(filter: string, subscriber: import('./lib/link.js').Subscriber) => () => void} subscribe
 * @property {(topic: string, body: object) => Promise<void>} publish
 * @property {() => void} release stops the status updates and the node's subscriptions
 */

/**
 * @typedef {import('./lib/red.js').RedNode & {
 *   use(user: import('./lib/red.js').RedNode): PlatformUse | { problem: string, prefix: string },
 *   device(id: string): Promise<unknown>,
 *   command(request: object): Promise<unknown>,
 * }} PlatformNode
 */

/** An answer of the platform's HTTP API that is not a success, with its stable error code. */
class ApiAnswerError extends Error {
  /** @param {number} status @param {string} code @param {string} message */
  constructor(status, code, message) {
    super(`the platform's API answered ${status} ${code}: ${message}`);
    this.name = 'ApiAnswerError';
    this.status = status;
    this.code = code;
  }
}

const API_TIMEOUT_MS = 10_000;

/** @param {unknown} v @returns {string | undefined} */
const nonEmpty = (v) => (typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined);

/** @param {import('./lib/red.js').NodeApi} RED */
module.exports = function (RED) {
  /**
   * @this {PlatformNode}
   * @param {Record<string, unknown>} config
   */
  function CityPlatformNode(config) {
    RED.nodes.createNode(this, config);
    const node = this;
    const given = RED.settings.cityPlatform;
    /** @type {PlatformDefaults} */
    const defaults = typeof given === 'object' && given !== null ? given : {};
    const creds = node.credentials ?? {};
    const mqttUrl = nonEmpty(config.mqttUrl) ?? nonEmpty(defaults.mqttUrl);
    const account = nonEmpty(config.account) ?? nonEmpty(defaults.account) ?? 'node-red';
    const secret = nonEmpty(creds.secret) ?? nonEmpty(defaults.secret);
    const prefix = nonEmpty(config.prefix) ?? nonEmpty(defaults.prefix) ?? DEFAULT_PREFIX;
    const apiUrl = nonEmpty(config.apiUrl) ?? nonEmpty(defaults.apiUrl);
    const apiToken = nonEmpty(creds.apiToken) ?? nonEmpty(defaults.apiToken);

    const problems = [
      prefixProblem(prefix),
      mqttUrl === undefined ? 'no MQTT URL (set it here or CITY_MQTT_URL)' : undefined,
      secret === undefined ? `no secret for ${account} (set it here or CITY_NODE_RED_SECRET)` : undefined,
    ].filter((p) => p !== undefined);
    const problem = problems.length > 0 ? problems.join('; ') : undefined;

    const target = mqttUrl !== undefined && secret !== undefined ? { url: mqttUrl, secret } : undefined;
    /** @type {import('./lib/link.js').Link | undefined} */
    let link;

    /**
     * @param {{ url: string, secret: string }} target
     * @returns {import('./lib/link.js').Link}
     */
    function openLink(target) {
      link ??= createLink(
        {
          url: target.url,
          account,
          secret: target.secret,
          clientSuffix: `${node.id}-${crypto.randomBytes(3).toString('hex')}`,
        },
        { warn: (text) => node.warn(text) },
      );
      return link;
    }

    /** @type {PlatformNode['use']} */
    const use = (user) => {
      if (problem !== undefined || target === undefined) {
        user.status(problemStatus(problem ?? 'not configured'));
        return { problem: problem ?? 'not configured', prefix };
      }
      const l = openLink(target);
      user.status(linkStatus(l.status()));
      const stopStatus = l.onStatus((s) => user.status(linkStatus(s)));
      /** @type {Array<() => void>} */
      const unsubscribes = [];
      return {
        prefix,
        subscribe(filter, subscriber) {
          const off = l.subscribe(filter, subscriber);
          unsubscribes.push(off);
          return off;
        },
        publish: (topic, body) => l.publish(topic, body),
        release() {
          stopStatus();
          for (const off of unsubscribes.splice(0)) off();
        },
      };
    };

    node.use = use;

    /**
     * One call of the platform's HTTP API with the node's token; the answer's body, or an ApiAnswerError
     * with the API's code (and, for a refused command, its own code).
     * @param {string} path under /api/ @param {object} [body] POSTed as JSON when given
     * @returns {Promise<unknown>}
     */
    const api = async (path, body) => {
      if (apiUrl === undefined) throw new Error('no API URL (set it in the platform node or CITY_API_URL)');
      if (apiToken === undefined) {
        throw new Error('no API token (set it in the platform node or CITY_NODE_RED_API_TOKEN)');
      }
      const base = apiUrl.endsWith('/') ? apiUrl : `${apiUrl}/`;
      const res = await fetch(new URL(`api/${path}`, base), {
        method: body === undefined ? 'GET' : 'POST',
        headers: {
          authorization: `Bearer ${apiToken}`,
          accept: 'application/json',
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(API_TIMEOUT_MS),
      });
      /** @type {unknown} */
      const answer = await res.json().catch(() => undefined);
      if (res.ok) return answer;
      const error =
        /** @type {{ error?: { code?: unknown, message?: unknown, details?: { code?: unknown } } } | undefined} */ (
          answer
        )?.error;
      const code = typeof error?.code === 'string' ? error.code : 'unknown';
      const detail = typeof error?.details?.code === 'string' ? ` ${error.details.code}` : '';
      throw new ApiAnswerError(
        res.status,
        `${code}${detail}`,
        typeof error?.message === 'string' ? error.message : res.statusText,
      );
    };

    /** @type {PlatformNode['device']} */
    node.device = (id) => api(`devices/${encodeURIComponent(id)}`);
    /** @type {PlatformNode['command']} */
    node.command = (request) => api('commands', request);

    node.on('close', (/** @type {boolean} */ _removed, /** @type {() => void} */ done) => {
      const l = link;
      link = undefined;
      if (!l) return done();
      l.close().then(done, done);
    });
  }

  RED.nodes.registerType('city-platform', CityPlatformNode, {
    credentials: {
      secret: { type: 'password' },
      apiToken: { type: 'password' },
    },
  });
};
