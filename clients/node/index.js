'use strict';
/**
 * sidecast for Node.js: the protocol client for the local sidecastd and the
 * socket.io 4 cluster adapter built on it.
 *
 *   const { createAdapter, SidecastClient } = require('sidecast');
 *   io.adapter(createAdapter({ path: '/run/sidecast/sidecast.sock' }));
 *   new Emitter().to('lobby').emit('news', 1);   // from a process without socket.io
 */
const { SidecastClient, PROTOCOL_VERSION, Feature, CLIENT_FEATURES } = require('./lib/client');
const { ErrorCode, SidecastError, TimeoutError, DisconnectedError } = require('./lib/errors');

let adapterModule = null;
function adapter() {
  // socket.io-adapter is a peer dependency: load it only when the adapter is used
  if (!adapterModule) adapterModule = require('./lib/adapter');
  return adapterModule;
}

module.exports = {
  SidecastClient,
  PROTOCOL_VERSION,
  Feature,
  CLIENT_FEATURES,
  ErrorCode,
  SidecastError,
  TimeoutError,
  DisconnectedError,
  createAdapter: (opts) => adapter().createAdapter(opts),
  get SidecastAdapter() {
    return adapter().SidecastAdapter;
  },
  get Emitter() {
    return require('./lib/emitter').Emitter;
  },
  enableForwarding: (io, opts) => require('./lib/forward').enableForwarding(io, opts),
  metrics: (io) => require('./lib/metrics').metrics(io),
  registerMetrics: (io, promClient, registry) => require('./lib/metrics').registerMetrics(io, promClient, registry),
};
