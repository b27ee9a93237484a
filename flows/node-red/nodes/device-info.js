// @ts-check
/* global require, module -- CommonJS for Node-RED's loader */
/* eslint-disable @typescript-eslint/no-require-imports -- Node-RED requires its nodes */
/* eslint @typescript-eslint/no-this-alias: ["error", { "allowedNames": ["node"] }] */
// `device info`: the registry's record of a device (name, district, place, registry tags, metadata such
// as a river gauge's alarm levels), from the platform's API (GET /api/devices/:id), as `msg.deviceInfo`.
// Records change seldom and readings come often: answers are kept for a while (60 s by default).
'use strict';

const { isId } = require('./lib/contract.js');
const { problemStatus } = require('./lib/red.js');

const DEFAULT_CACHE_SECONDS = 60;
/** Bounds the cache: a city's fleet, not an unbounded map. */
const MAX_CACHED = 10_000;

/** @param {import('./lib/red.js').NodeApi} RED */
module.exports = function (RED) {
  /**
   * @this {import('./lib/red.js').RedNode}
   * @param {Record<string, unknown>} config
   */
  function CityDeviceInfoNode(config) {
    RED.nodes.createNode(this, config);
    const node = this;
    const seconds = Number(config.cacheSeconds ?? DEFAULT_CACHE_SECONDS);
    const cacheMs = Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : 0;
    /** @type {Map<string, { at: number, record: Promise<unknown> }>} */
    const cache = new Map();
    const platform = /** @type {import('./city-platform.js').PlatformNode | null} */ (
      RED.nodes.getNode(/** @type {string} */ (config.platform))
    );
    if (!platform) node.status(problemStatus('no platform chosen'));

    /** @param {string} id */
    function lookup(id) {
      const now = Date.now();
      const kept = cache.get(id);
      if (kept && now - kept.at < cacheMs) return kept.record;
      if (!platform) return Promise.reject(new Error('no platform chosen'));
      const record = platform.device(id);
      if (cacheMs > 0) {
        if (cache.size >= MAX_CACHED) cache.clear();
        cache.set(id, { at: now, record });
        // A failed lookup is not kept: the next message asks again.
        record.catch(() => cache.delete(id));
      }
      return record;
    }

    node.on(
      'input',
      /** @type {import('./lib/red.js').InputHandler} */
      (msg, send, done) => {
        const reading = /** @type {{ device?: unknown } | undefined} */ (msg.reading);
        const id = msg.device ?? reading?.device;
        if (!isId(id)) {
          node.error(
            `device info: ${JSON.stringify(id) ?? 'missing'} is not a device id (msg.device or msg.reading.device)`,
            msg,
          );
          return done();
        }
        lookup(id).then(
          (record) => {
            msg.deviceInfo = record;
            node.status({});
            send(msg);
            done();
          },
          (/** @type {unknown} */ err) => {
            node.status(problemStatus('lookup failed'));
            node.error(`device info: ${id}: ${err instanceof Error ? err.message : String(err)}`, msg);
            done();
          },
        );
      },
    );
  }

  RED.nodes.registerType('city-device-info', CityDeviceInfoNode);
};
