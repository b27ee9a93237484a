// @ts-check
/* global require, module -- CommonJS for Node-RED's loader */
/* eslint-disable @typescript-eslint/no-require-imports -- Node-RED requires its nodes */
/* eslint @typescript-eslint/no-this-alias: ["error", { "allowedNames": ["node"] }] */
// What `raise alert` and `clear alert` share: on each message, build the request from the node's settings
// and the message, refuse it here when it is not valid (the platform would acknowledge it and dead-letter
// it, unseen by the flow), publish it with QoS 1, and pass the message on once the broker has it.
'use strict';

const { DEFAULT_PREFIX } = require('./contract.js');
const { problemStatus } = require('./red.js');

/**
 * @template T
 * @typedef {(prefix: string, settings: import('./contract.js').RequestSettings, msg: import('./red.js').Msg)
 *   => import('./contract.js').Built<T>} Build
 */

/** @param {unknown} v @returns {string | undefined} */
const setting = (v) => (typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined);

/**
 * @template T
 * @param {import('./red.js').NodeApi} RED
 * @param {string} label how errors name the node
 * @param {Build<T>} build
 * @returns {(this: import('./red.js').RedNode, config: Record<string, unknown>) => void}
 */
function requestNode(RED, label, build) {
  return function (config) {
    RED.nodes.createNode(this, config);
    const node = this;
    /** @type {import('./contract.js').RequestSettings} */
    const settings = {
      rule: setting(config.rule),
      kind: setting(config.kind),
      title: setting(config.title),
      severity: setting(config.severity),
      owner: setting(config.owner),
      message: setting(config.message),
    };
    const platform = /** @type {import('../city-platform.js').PlatformNode | null} */ (
      RED.nodes.getNode(/** @type {string} */ (config.platform))
    );
    const use = platform ? platform.use(node) : { problem: 'no platform chosen', prefix: DEFAULT_PREFIX };
    if ('problem' in use) node.status(problemStatus(use.problem));

    node.on(
      'input',
      /** @type {import('./red.js').InputHandler} */
      (msg, send, done) => {
        // The message is checked first: its problems are the flow's, whatever the platform node's state.
        const request = build(use.prefix, settings, msg);
        if (!request.ok) {
          node.error(`${label}: ${request.problems.join('; ')}`, msg);
          return done();
        }
        if ('problem' in use) {
          node.error(`${label}: ${use.problem}`, msg);
          return done();
        }
        use.publish(request.topic, /** @type {object} */ (request.body)).then(
          () => {
            msg.alertRequest = { topic: request.topic, ...request.key, body: request.body };
            send(msg);
            done();
          },
          (/** @type {unknown} */ err) => {
            node.error(`${label}: not published: ${err instanceof Error ? err.message : String(err)}`, msg);
            done();
          },
        );
      },
    );
    node.on('close', () => {
      if (!('problem' in use)) use.release();
    });
  };
}

module.exports = { requestNode };
