// @ts-check
/* global require, module -- CommonJS for Node-RED's loader */
/* eslint-disable @typescript-eslint/no-require-imports -- Node-RED requires its nodes */
/* eslint @typescript-eslint/no-this-alias: ["error", { "allowedNames": ["node"] }] */
// `send command`: a command to a device or a set of them through the platform's API (POST /api/commands,
// docs/commands.md): the platform stores it, sends it, follows it and checks it. The node's settings say
// what and to whom; `msg.command` (`{ type, params, target, expires_in }`) overrides any of them, and the
// device comes from `msg.device` or `msg.reading.device` when the target is "the message's device". The
// answer (`{ batch, commands }`) is the output's `msg.payload`; a refusal is a `node.error` with the API's
// code and the command's (COMMAND_ERR_…), which a catch node sees.
'use strict';

const { isId } = require('./lib/contract.js');
const { problemStatus } = require('./lib/red.js');

/** @param {unknown} v @returns {v is Record<string, unknown>} */
const isObject = (v) => typeof v === 'object' && v !== null && !Array.isArray(v);

/** @param {import('./lib/red.js').NodeApi} RED */
module.exports = function (RED) {
  /**
   * @this {import('./lib/red.js').RedNode}
   * @param {Record<string, unknown>} config
   */
  function CitySendCommandNode(config) {
    RED.nodes.createNode(this, config);
    const node = this;
    const platform = /** @type {import('./city-platform.js').PlatformNode | null} */ (
      RED.nodes.getNode(/** @type {string} */ (config.platform))
    );
    if (!platform) node.status(problemStatus('no platform chosen'));
    /** @type {unknown} */
    let configured;
    try {
      configured =
        typeof config.params === 'string' && config.params.trim() !== '' ? JSON.parse(config.params) : {};
    } catch {
      configured = undefined;
      node.status(problemStatus('parameters are not JSON'));
    }

    /**
     * The target the node's settings give, for this message.
     * @param {Record<string, unknown>} msg
     */
    function targetOf(msg) {
      const value = typeof config.targetValue === 'string' ? config.targetValue.trim() : '';
      switch (config.target) {
        case 'street':
        case 'district':
        case 'tag':
          return value === '' ? undefined : { [config.target]: value };
        default: {
          const reading = /** @type {{ device?: unknown } | undefined} */ (msg.reading);
          const id = value !== '' ? value : (msg.device ?? reading?.device);
          return isId(id) ? { device: id } : undefined;
        }
      }
    }

    node.on(
      'input',
      /** @type {import('./lib/red.js').InputHandler} */
      (msg, send, done) => {
        const asked = isObject(msg.command) ? msg.command : {};
        const request = {
          type: asked.type ?? config.command,
          params: asked.params ?? configured,
          target: asked.target ?? targetOf(msg),
          ...((asked.expires_in ?? config.expiresIn)
            ? { expires_in: asked.expires_in ?? config.expiresIn }
            : {}),
        };
        if (request.target === undefined) {
          node.error(
            'send command: no target (a device in msg.device or msg.reading.device, or the node’s target)',
            msg,
          );
          return done();
        }
        if (request.params === undefined) {
          node.error('send command: the node’s parameters are not JSON', msg);
          return done();
        }
        if (!platform) {
          node.error('send command: no platform chosen', msg);
          return done();
        }
        platform.command(request).then(
          (answer) => {
            msg.payload = answer;
            node.status({});
            send(msg);
            done();
          },
          (/** @type {unknown} */ err) => {
            node.status(problemStatus('refused'));
            node.error(`send command: ${err instanceof Error ? err.message : String(err)}`, msg);
            done();
          },
        );
      },
    );
  }

  RED.nodes.registerType('city-send-command', CitySendCommandNode);
};
