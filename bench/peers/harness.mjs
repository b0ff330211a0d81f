// What every peer client shares: its flags, the start handshake with
// firehose bench, the dedupe window, and the one-line results.
//
// The handshake (internal/benchrun/peers.go is the other side):
//
//  1. The client loads what it needs (modules, the proto), then prints
//     {"ready":true,"cpuUs":N} on stdout: N is its CPU so far
//     (process.cpuUsage, user + system, µs), which the harness subtracts from
//     the process's total, so start-up is not counted as streaming.
//  2. It waits for a line on stdin, connects, and reads until it has counted
//     --count events.
//  3. It prints one JSON line, {"events":…, "messages":…, "bytes":…,
//     "xor":"…", "sum":"…", "cpuUs":…}, and exits 0. The harness times the
//     wall clock from its line to this one.
//
// Anything wrong is one line {"error":"…"} and exit 1. stdin closing before
// the go (the harness ended or died) ends the process at once, like the
// mock's child.

import { parseArgs } from 'node:util';

// parseFlags reads the flags every client takes.
export function parseFlags() {
  const { values } = parseArgs({
    options: {
      url: { type: 'string' }, // ws: the events URL; grpc: host:port
      key: { type: 'string', default: 'test-key' },
      count: { type: 'string' },
      from: { type: 'string', default: '0' }, // grpc: fromTimestamp (the ws URL carries its own)
      raw: { type: 'boolean', default: false },
    },
    strict: true,
  });
  const count = Number(values.count);
  if (!values.url || !Number.isSafeInteger(count) || count <= 0) {
    fail('usage: --url URL --count N [--key KEY] [--from MS] [--raw]');
  }
  return { url: values.url, key: values.key, count, from: values.from, raw: values.raw };
}

function cpuUs() {
  const u = process.cpuUsage();
  return u.user + u.system;
}

function line(obj) {
  // On Linux, writes to a pipe are synchronous: the line is out before exit.
  process.stdout.write(JSON.stringify(obj) + '\n');
}

// fail reports err and exits 1.
export function fail(err) {
  line({ error: String(err && err.message ? err.message : err) });
  process.exit(1);
}

// ready says the client is loaded and resolves when the harness says go.
export function ready() {
  return new Promise((resolve) => {
    let started = false;
    process.stdin.on('data', () => {
      if (!started) {
        started = true;
        resolve();
      }
    });
    // No go before stdin ends: the harness has gone. (After go, stdin may
    // end, as with `echo go | node ws.mjs …`; a harness that dies takes its
    // mock, and so the stream, with it.)
    const gone = () => { if (!started) process.exit(3); };
    process.stdin.on('end', gone);
    process.stdin.on('error', gone);
    line({ ready: true, cpuUs: cpuUs() });
  });
}

// finish prints the result and exits 0.
export function finish(result) {
  line({ ...result, cpuUs: cpuUs() });
  process.exit(0);
}

// Window remembers the last `capacity` (recordUid, recordTimestamp) keys in
// arrival order: a Set for the look-up and a ring of the same keys to evict
// the oldest in O(1) once full. Its capacity is the Go SDK's default window
// (262,144 entries). A key is `${recordUid}|${recordTimestamp}`.
export class Window {
  constructor(capacity = 1 << 18) {
    this.seen = new Set();
    this.ring = new Array(capacity);
    this.next = 0;
    this.capacity = capacity;
  }

  // admit reports whether key is new, and remembers it.
  admit(key) {
    if (this.seen.has(key)) return false;
    const old = this.ring[this.next];
    if (old !== undefined) this.seen.delete(old);
    this.ring[this.next] = key;
    this.next = (this.next + 1) % this.capacity;
    this.seen.add(key);
    return true;
  }
}
