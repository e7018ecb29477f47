'use strict';
/**
 * The app's sidecast metrics in Prometheus form: the client's counters
 * (drops, reconnects, queued frames), each namespace adapter's stats, and
 * the forwarder's families when enableForwarding(io) was called.
 *
 *   app.get('/metrics', (req, res) => res.type('text/plain').send(metrics(io)));
 *   // or, with prom-client:
 *   registerMetrics(io, require('prom-client'));
 *
 * Both read the same counters when asked (at scrape time); nothing runs in
 * between.
 */
const { render, register } = require('./prom');
const forward = require('./forward');

/** The sidecast adapters of io's namespaces, and their distinct clients. */
function snapshot(io) {
  const namespaces = [];
  const clients = new Set();
  const nsps = io && io._nsps;
  if (nsps)
    for (const [name, nsp] of nsps) {
      const a = nsp.adapter;
      // a sidecast adapter: its client and its stats (dynamic namespaces' parents have neither)
      if (!a || !a.client || !a.client.counters || !a.stats || typeof a.stats.dataSent !== 'number') continue;
      namespaces.push({ name, stats: a.stats });
      clients.add(a.client);
    }
  const c = {
    reconnects: 0,
    droppedDisconnected: 0,
    droppedVolatile: 0,
    droppedSlow: 0,
    refusedTooLarge: 0,
    refused: 0,
    queued: 0,
    unreadablePayload: 0,
    unknownNamespace: 0,
  };
  let waiting = 0;
  let connected = 0;
  for (const cl of clients) {
    for (const k of Object.keys(c)) c[k] += cl.counters[k] || 0;
    waiting += cl._queue ? cl._queue.length : 0;
    if (cl.connected) connected++;
  }
  return { counters: c, waiting, connected, clients: clients.size, namespaces };
}

const APP_FAMILIES = [
  {
    name: 'sidecast_app_dropped_total',
    type: 'counter',
    help:
      'Frames the app dropped instead of sending to sidecastd, by reason: disconnected (queue full, volatile ' +
      'while disconnected, or older than queueTimeout at reconnect), volatile (output over maxOutputBytes), ' +
      'slow_reader (output over maxBufferedBytes), too_large (emit over sidecastd payload or frame limit).',
    labelNames: ['reason'],
    samples: (s) => [
      [{ reason: 'disconnected' }, s.counters.droppedDisconnected],
      [{ reason: 'volatile' }, s.counters.droppedVolatile],
      [{ reason: 'slow_reader' }, s.counters.droppedSlow],
      [{ reason: 'too_large' }, s.counters.refusedTooLarge],
    ],
  },
  {
    name: 'sidecast_app_refused_total',
    type: 'counter',
    help: 'Fire-and-forget frames sidecastd answered with an error (e.g. a duplicate socket id).',
    labelNames: [],
    samples: (s) => [[null, s.counters.refused]],
  },
  {
    name: 'sidecast_app_unreadable_total',
    type: 'counter',
    help:
      'Messages from sidecastd the adapter could not use, by reason: payload (not in the socket.io mapping, ' +
      'e.g. raw bytes from another client or sidecastctl), namespace (for a namespace this app does not serve).',
    labelNames: ['reason'],
    samples: (s) => [
      [{ reason: 'payload' }, s.counters.unreadablePayload],
      [{ reason: 'namespace' }, s.counters.unknownNamespace],
    ],
  },
  {
    name: 'sidecast_app_reconnects_total',
    type: 'counter',
    help: 'Connections to sidecastd lost after they were up (each followed by reconnect attempts).',
    labelNames: [],
    samples: (s) => [[null, s.counters.reconnects]],
  },
  {
    name: 'sidecast_app_queued_frames_total',
    type: 'counter',
    help: 'Frames queued while sidecastd was unreachable, to be sent at reconnect.',
    labelNames: [],
    samples: (s) => [[null, s.counters.queued]],
  },
  {
    name: 'sidecast_app_queue_frames',
    type: 'gauge',
    help: 'Frames and requests waiting in the queue for sidecastd to be reachable.',
    labelNames: [],
    samples: (s) => [[null, s.waiting]],
  },
  {
    name: 'sidecast_app_connected',
    type: 'gauge',
    help: 'Connections to sidecastd that are up (1: connected, 0: not).',
    labelNames: [],
    samples: (s) => [[null, s.connected]],
  },
  {
    name: 'sidecast_app_namespace_too_large_total',
    type: 'counter',
    help: "Emits of a namespace refused for their size (part of sidecast_app_dropped_total{reason=\"too_large\"}).",
    labelNames: ['namespace'],
    samples: (s) => s.namespaces.map((n) => [{ namespace: n.name }, n.stats.refusedTooLarge]),
  },
  {
    name: 'sidecast_app_namespace_data_sent_total',
    type: 'counter',
    help: 'socket.data updates of a namespace sent to sidecastd.',
    labelNames: ['namespace'],
    samples: (s) => s.namespaces.map((n) => [{ namespace: n.name }, n.stats.dataSent]),
  },
  {
    name: 'sidecast_app_namespace_data_checked_total',
    type: 'counter',
    help: 'socket.data values of a namespace compared for changes.',
    labelNames: ['namespace'],
    samples: (s) => s.namespaces.map((n) => [{ namespace: n.name }, n.stats.dataChecked]),
  },
];

/**
 * Prometheus text exposition (format 0.0.4) of the app's sidecast metrics:
 * `sidecast_app_*` from the adapter's client and namespaces, plus
 * `sidecast_forward_*` when enableForwarding(io) is active.
 * @param {import('socket.io').Server} io
 * @returns {string}
 */
function metrics(io) {
  let text = render(APP_FAMILIES, snapshot(io));
  const f = forward.forwarderOf(io);
  if (f) text += f.metrics();
  return text;
}

/**
 * Register the same families in a prom-client registry: Counters and
 * Gauges whose collect() reads the counters at scrape time. The forwarder's
 * families are registered if enableForwarding(io) was called before.
 * @param {import('socket.io').Server} io
 * @param {typeof import('prom-client')} promClient the app's prom-client module
 * @param {import('prom-client').Registry} [registry=promClient.register]
 * @returns {object[]} the prom-client metrics registered
 */
function registerMetrics(io, promClient, registry) {
  if (!io || !io._nsps) throw new TypeError('registerMetrics: pass the socket.io Server');
  if (!registry) registry = promClient && promClient.register;
  const out = register(APP_FAMILIES, () => snapshot(io), promClient, registry);
  if (forward.forwarderOf(io))
    out.push(...register(forward.FAMILIES, () => forward.forwarderOf(io), promClient, registry));
  return out;
}

module.exports = { metrics, registerMetrics, APP_FAMILIES };
