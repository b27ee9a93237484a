// @ts-check
/* global require, module -- CommonJS for Node-RED's loader */
/* eslint-disable @typescript-eslint/no-require-imports -- Node-RED requires its nodes */
// `clear alert`: asks the platform to clear the open alert of a rule on a device, as a rule file's clear
// condition does (the alert is resolved; an operator's acknowledgement stays in its history).
'use strict';

const { buildClear } = require('./lib/contract.js');
const { requestNode } = require('./lib/request-node.js');

/** @param {import('./lib/red.js').NodeApi} RED */
module.exports = function (RED) {
  RED.nodes.registerType('city-clear-alert', requestNode(RED, 'clear alert', buildClear));
};
