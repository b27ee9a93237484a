// @ts-check
/* global require, module -- CommonJS for Node-RED's loader */
/* eslint-disable @typescript-eslint/no-require-imports -- Node-RED requires its nodes */
/* eslint @typescript-eslint/no-this-alias: ["error", { "allowedNames": ["node"] }] */
// `city telemetry`: the readings of chosen kinds, as the platform stored them (decoded, validated, the
// level derived from a gauge's datum), optionally only those of some districts or devices. One message
// per reading: `payload` the fields, `reading` the whole reading, `topic` the device id.
'use strict';

const { KINDS, isId, listOf, parseReading, readingsFilter } = require('./lib/contract.js');
const { problemStatus } = require('./lib/red.js');

/**
 * @typedef {import('./lib/red.js').RedNode & { ignored: number }} TelemetryNode
 */

/** @param {import('./lib/red.js').NodeApi} RED */
module.exports = function (RED) {
  /**
   * @this {TelemetryNode}
   * @param {Record<string, unknown>} config
   */
  function CityTelemetryNode(config) {
    RED.nodes.createNode(this, config);
    const node = this;
    /** Messages on a readings topic that were not readings (counted; the platform never sends them). */
    node.ignored = 0;
    const kinds = KINDS.filter((k) => config[k] === true);
    const districts = new Set(listOf(config.districts));
    const devices = listOf(config.devices);
    const badIds = devices.filter((d) => !isId(d));
    const platform = /** @type {import('./city-platform.js').PlatformNode | null} */ (
      RED.nodes.getNode(/** @type {string} */ (config.platform))
    );

    /** @param {string} text */
    const refuse = (text) => {
      node.status(problemStatus(text));
      node.error(`city telemetry: ${text}`);
    };
    if (!platform) return refuse('no platform chosen');
    if (kinds.length === 0) return refuse('no kind chosen');
    if (badIds.length > 0) return refuse(`not device ids: ${badIds.join(', ')}`);
    const use = platform.use(node);
    if ('problem' in use) return node.error(`city telemetry: ${use.problem}`);

    /** @type {import('./lib/link.js').Subscriber} */
    const subscriber = {
      onMessage(_topic, payload) {
        const parsed = parseReading(payload);
        if (!parsed.ok) {
          node.ignored++;
          return;
        }
        const { reading } = parsed;
        if (districts.size > 0 && !districts.has(reading.district)) return;
        node.send({ topic: reading.device, payload: { ...reading.fields }, reading });
      },
      onRefused(reason) {
        node.status(problemStatus('subscription refused'));
        node.error(`city telemetry: ${reason} (only service accounts may read readings)`);
      },
    };
    // A device list narrows the subscription itself: the broker sends only those devices' readings.
    for (const kind of kinds) {
      if (devices.length === 0) use.subscribe(readingsFilter(use.prefix, kind), subscriber);
      else for (const d of devices) use.subscribe(readingsFilter(use.prefix, kind, d), subscriber);
    }
    node.on('close', () => use.release());
  }

  RED.nodes.registerType('city-telemetry', CityTelemetryNode);
};
