// The Node peer on gRPC: @grpc/grpc-js with the service loaded from
// proto/firehose.proto by @grpc/proto-loader, as a consumer of the firehose
// would use them. firehose bench runs it as a process against its mock
// (internal/benchrun/peers.go); see harness.mjs for the handshake.
//
//	node grpc.mjs --url 127.0.0.1:PORT --from MS --count N [--raw]
//
// It calls the server-streaming GetEvents that the Go rows call: cleartext
// HTTP/2, the key as x-api-key metadata, partitions 1–12 from --from. The
// method's path on the wire is /firehose_api_v1.Firehose/GetEvents, not the
// one proto-loader derives from the file's package (firehosego.cisco.v1; see
// the proto's header), so the call names the path itself with the method's
// serializers from the loaded definition. Then, per record:
//
//   - default: proto-loader's deserializer (protobufjs decode, then toObject
//     with the options below: the proto's field names, int64 as strings,
//     enums as names, oneofs named, no defaults filled in), skip a
//     KEEP_ALIVE, drop a
//     record whose (recordUid, recordTimestamp) is in the window of the last
//     262,144 (harness.mjs Window), add its fingerprint to the digest
//     (digest.mjs), and count it;
//   - --raw: the record's bytes are not decoded (an identity deserializer);
//     count it.
//
// It stops once it has counted --count events, cancels the call and prints
// the result.

import { fileURLToPath } from 'node:url';
import grpc from '@grpc/grpc-js';
import protoLoader from '@grpc/proto-loader';
import { Digest } from './digest.mjs';
import { parseFlags, ready, finish, fail, Window } from './harness.mjs';

const PROTO = fileURLToPath(new URL('../../proto/firehose.proto', import.meta.url));
const PATH = '/firehose_api_v1.Firehose/GetEvents';

const flags = parseFlags();
// keepCase: the proto cannot be loaded with camelCase names, where the field
// i_beacon of IOTTelemetry would collide with its nested message iBeacon.
const definition = protoLoader.loadSync(PROTO, {
  keepCase: true,
  longs: String,
  enums: String,
  defaults: false,
  oneofs: true,
});
const getEvents = definition['firehosego.cisco.v1.Firehose'].GetEvents;
const client = new grpc.Client(flags.url, grpc.credentials.createInsecure(), {
  'grpc.max_receive_message_length': 16 << 20,
});
await ready();

let events = 0;
let messages = 0;
let done = false;
const window = new Window();
const digest = new Digest();

const metadata = new grpc.Metadata();
metadata.set('x-api-key', flags.key);
const call = client.makeServerStreamRequest(
  PATH,
  getEvents.requestSerialize,
  flags.raw ? (buf) => buf : getEvents.responseDeserialize,
  { min_partition: 1, max_partition: 12, from_timestamp: flags.from },
  metadata,
);

function stop() {
  done = true;
  call.cancel();
  if (flags.raw) {
    finish({ events, messages });
  } else {
    finish({ events, messages, xor: digest.xor, sum: digest.sum });
  }
}

call.on('data', (rec) => {
  if (done) return;
  messages++;
  if (flags.raw) {
    if (++events === flags.count) stop();
    return;
  }
  if (rec.event_type === 'KEEP_ALIVE') return;
  if (!window.admit(rec.record_uid + '|' + rec.record_timestamp)) return;
  digest.add(rec.record_uid, rec.record_timestamp);
  if (++events === flags.count) stop();
});
call.on('error', (err) => { if (!done) fail(err); });
call.on('end', () => { if (!done) fail(`stream ended after ${events} events`); });
