// @ts-check
/* global module -- CommonJS for Node-RED's loader */
// The parts of Node-RED's runtime API these nodes use (Node-RED ships no type declarations), and the
// node status each connection state is shown as.
'use strict';

/**
 * @typedef {object} NodeStatus
 * @property {'red' | 'green' | 'yellow' | 'blue' | 'grey'} [fill]
 * @property {'ring' | 'dot'} [shape]
 * @property {string} [text]
 */

/**
 * A message travelling through a flow.
 * @typedef {Record<string, unknown>} Msg
 */

/**
 * A node instance, as `RED.nodes.createNode` makes it.
 * @typedef {object} RedNode
 * @property {string} id
 * @property {string} type
 * @property {string} [name]
 * @property {Record<string, string | undefined>} [credentials]
 * @property {(status: NodeStatus | Record<string, never>) => void} status
 * @property {(err: unknown, msg?: Msg) => void} error
 * @property {(text: unknown) => void} warn
 * @property {(text: unknown) => void} log
 * @property {(msg: Msg | Array<Msg | null>) => void} send
 * @property {(event: string, handler: (...args: any[]) => void) => void} on
 */

/**
 * @typedef {(msg: Msg, send: (msg: Msg | Array<Msg | null>) => void, done: (err?: unknown) => void) => void} InputHandler
 */

/**
 * The runtime API a node module receives.
 * @typedef {object} NodeApi
 * @property {{
 *   createNode(node: object, config: object): void,
 *   registerType(type: string, ctor: Function, options?: object): void,
 *   getNode(id: string): unknown,
 * }} nodes
 * @property {Record<string, unknown>} settings
 */

/**
 * How a node shows the state of its platform connection.
 * @param {import('./link.js').LinkStatus} s
 * @returns {NodeStatus}
 */
function linkStatus(s) {
  switch (s.state) {
    case 'connected':
      return { fill: 'green', shape: 'dot', text: 'connected' };
    case 'connecting':
      return { fill: 'yellow', shape: 'ring', text: 'connecting' };
    case 'disconnected':
      return { fill: 'red', shape: 'ring', text: 'disconnected' };
    case 'refused':
      return { fill: 'red', shape: 'dot', text: `refused: ${s.detail ?? ''}` };
    case 'closed':
      return { fill: 'grey', shape: 'ring', text: 'closed' };
  }
}

/** @param {string} text @returns {NodeStatus} */
const problemStatus = (text) => ({ fill: 'red', shape: 'ring', text });

module.exports = { linkStatus, problemStatus };
