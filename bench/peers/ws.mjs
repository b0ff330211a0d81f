// The Node peer on WebSocket: the `ws` package, as a consumer of the
// firehose would use it. firehose bench runs it as a process against its mock
// (internal/benchrun/peers.go); see harness.mjs for the handshake.
//
//	node ws.mjs --url 'ws://127.0.0.1:PORT/api/partners/v1/firehose/events?fromTimestamp=…&maxPartition=12&minPartition=1' --count N [--raw]
//
// It connects with the key in the X-API-Key header and without
// permessage-deflate (the Go clients do not offer it; `ws` would by default,
// and the mock would then compress every message). Then, per message:
//
//   - default: JSON.parse of the message (one event per message, as Cisco and
//     the mock send it; a trailing "\n" is whitespace to JSON.parse), skip a
//     KEEP_ALIVE, drop an event whose (recordUid, recordTimestamp) is in the
//     window of the last 262,144 (harness.mjs Window: a Set and a ring), add
//     the event's fingerprint to the digest (digest.mjs), and count it;
//   - --raw: count the message and its bytes; nothing is decoded.
//
// It stops once it has counted --count events and prints the result.

import WebSocket from 'ws';
import { Digest } from './digest.mjs';
import { parseFlags, ready, finish, fail, Window } from './harness.mjs';

const flags = parseFlags();
await ready();

let events = 0;
let messages = 0;
let bytes = 0;
let done = false;
const window = new Window();
const digest = new Digest();

const ws = new WebSocket(flags.url, {
  headers: { 'X-API-Key': flags.key },
  perMessageDeflate: false,
});

function stop() {
  done = true;
  ws.terminate();
  if (flags.raw) {
    finish({ events, messages, bytes });
  } else {
    finish({ events, messages, xor: digest.xor, sum: digest.sum });
  }
}

ws.on('message', (data, isBinary) => {
  if (done) return;
  messages++;
  if (flags.raw) {
    bytes += data.length;
    if (++events === flags.count) stop();
    return;
  }
  if (isBinary) return; // not an event (the Go SDK drops binary messages too)
  const ev = JSON.parse(data.toString('utf8'));
  if (ev.eventType === 'KEEP_ALIVE') return;
  if (!window.admit(ev.recordUid + '|' + ev.recordTimestamp)) return;
  digest.add(ev.recordUid, ev.recordTimestamp);
  if (++events === flags.count) stop();
});
ws.on('unexpected-response', (_req, res) => fail(`handshake: HTTP ${res.statusCode}`));
ws.on('error', (err) => { if (!done) fail(err); });
ws.on('close', (code) => { if (!done) fail(`closed (${code}) after ${events} events`); });
