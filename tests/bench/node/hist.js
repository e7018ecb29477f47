'use strict';
// Latency histogram in 10 µs buckets up to 10 s (anything slower lands in the
// last bucket), mergeable across processes as a sparse [bucket, count] list.
const BUCKET_US = 10;
const BUCKETS = 1000000;

class Hist {
  constructor() {
    this.counts = new Uint32Array(BUCKETS);
    this.n = 0;
  }

  add(us) {
    const b = Math.min(BUCKETS - 1, Math.max(0, Math.floor(us / BUCKET_US)));
    this.counts[b]++;
    this.n++;
  }

  reset() {
    this.counts.fill(0);
    this.n = 0;
  }

  sparse() {
    const out = [];
    for (let i = 0; i < BUCKETS; i++) if (this.counts[i]) out.push([i, this.counts[i]]);
    return out;
  }

  merge(sparse) {
    for (const [b, c] of sparse) {
      this.counts[b] += c;
      this.n += c;
    }
  }

  // Value in µs at quantile q (upper edge of the bucket), or NaN when empty.
  quantile(q) {
    if (!this.n) return NaN;
    const want = Math.ceil(q * this.n);
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i];
      if (seen >= want) return (i + 1) * BUCKET_US;
    }
    return BUCKETS * BUCKET_US;
  }
}

const nowUs = () => Number(process.hrtime.bigint() / 1000n);

module.exports = { Hist, nowUs };
