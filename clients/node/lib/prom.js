'use strict';
/**
 * Prometheus helpers shared by the forwarder's and the app's metrics.
 *
 * A family is `{name, type: 'counter'|'gauge', help, labelNames, samples(src)}`
 * where samples(src) returns `[[labels|null, value], ...]` read from `src`
 * at the moment it is called. render() makes the text exposition format
 * 0.0.4 of a list of families; register() makes prom-client metrics of the
 * same families whose collect() reads them at scrape time (no timers).
 */

function escapeHelp(s) {
  return String(s).replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

function escapeLabel(s) {
  return String(s).replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function labelText(labels) {
  if (!labels) return '';
  const keys = Object.keys(labels);
  if (keys.length === 0) return '';
  return '{' + keys.map((k) => `${k}="${escapeLabel(labels[k])}"`).join(',') + '}';
}

/** Text exposition of `families` read from `src`; '' for none. */
function render(families, src) {
  const out = [];
  for (const f of families) {
    out.push(`# HELP ${f.name} ${escapeHelp(f.help)}`, `# TYPE ${f.name} ${f.type}`);
    for (const [labels, value] of f.samples(src)) out.push(`${f.name}${labelText(labels)} ${value}`);
  }
  return out.length ? out.join('\n') + '\n' : '';
}

/**
 * prom-client Counters / Gauges of `families` in `registry`; each reads
 * `source()` (null: no samples) when the registry is scraped.
 * @returns {object[]} the prom-client metrics
 */
function register(families, source, promClient, registry) {
  if (!promClient || typeof promClient.Counter !== 'function' || typeof promClient.Gauge !== 'function')
    throw new TypeError('registerMetrics: pass the prom-client module (require("prom-client"))');
  return families.map((f) => {
    const Kind = f.type === 'counter' ? promClient.Counter : promClient.Gauge;
    return new Kind({
      name: f.name,
      help: f.help,
      labelNames: f.labelNames,
      registers: [registry],
      collect() {
        this.reset();
        const src = source();
        if (src === null) return;
        for (const [labels, value] of f.samples(src)) {
          if (f.type === 'counter') this.inc(labels || {}, value);
          else this.set(labels || {}, value);
        }
      },
    });
  });
}

module.exports = { render, register, escapeLabel };
