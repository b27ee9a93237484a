// @ts-check
/* global require, module -- CommonJS for Node-RED's loader */
/* eslint-disable @typescript-eslint/no-require-imports -- Node-RED requires its nodes */
// `raise alert`: asks the platform to raise (or update, or escalate) the alert of a rule on a device. The
// platform runs it through the same lifecycle as a rule file's alert: one open alert per (rule, device),
// acknowledgement by an operator, every transition in InfluxDB and on city/alerts/<kind>/<device>/<rule>.
'use strict';

const { buildRaise } = require('./lib/contract.js');
const { requestNode } = require('./lib/request-node.js');

/** @param {import('./lib/red.js').NodeApi} RED */
module.exports = function (RED) {
  RED.nodes.registerType('city-raise-alert', requestNode(RED, 'raise alert', buildRaise));
};
