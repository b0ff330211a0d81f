// Package firehosetest is a mock Cisco Spaces Partner Firehose for tests, demos and benchmarks,
// modelled on net/http/httptest: NewServer starts it on loopback at once, URL says where, and Close
// stops everything it started and waits for it. It speaks only the wire — it does not import the
// firehose client — so any client can be tested against it.
//
//	srv := firehosetest.NewServer(
//		firehosetest.WithHistory(500, 10*time.Minute), // events already in the log
//		firehosetest.WithRate(200),                    // then 200 live events per second
//		firehosetest.WithScript(
//			firehosetest.Conn{Status: 429, RetryAfter: "1"},           // 1st attempt: throttled
//			firehosetest.Conn{After: 100, Action: firehosetest.Cut},   // 2nd: cut after 100 events
//			firehosetest.Conn{After: 50, Duplicates: 20},              // 3rd: a duplicate burst
//		),
//	)
//	defer srv.Close()
//	// point the client at srv.URL with the key firehosetest.DefaultAPIKey, run it, then compare
//	// what it delivered with srv.Log().Events(1, 12), and look at srv.Requests().
//
// # The wire
//
// GET URL + EventsPath ("/api/partners/v1/firehose/events") with the X-API-Key header streams
// NDJSON: status 200, Content-Type application/x-ndjson, one JSON event per line, flushed whenever
// no further line is ready at once. Parameters: minPartition and maxPartition (1–12, defaults 1 and
// 12), fromTimestamp (epoch ms; absent or 0 = only events emitted after the connection opened;
// otherwise every event of the range whose recordTimestamp is at least fromTimestamp, clamped to the
// replay window, in emission order, then live ones) and replicaId (refused on a cloud activation).
// Refusals: 401 for a missing or wrong key, 403 for a channel not enabled (WithChannels), 400 for a
// bad parameter or a replicaId on a cloud activation, 404 for another path, 405 for another method.
// After WithKeepAlive's interval (15 s) without a line, a KEEP_ALIVE goes out:
//
//	{"recordUid":"event-…","recordTimestamp":<now ms>,"spacesTenantId":"","spacesTenantName":"","partnerTenantId":"","eventType":"KEEP_ALIVE"}
//
// The same path also answers a WebSocket upgrade (one event per text message, with its trailing
// "\n"; refusals are plain HTTP answers before the upgrade) and gRPC over cleartext HTTP/2 (or
// HTTP/2 with TLS under WithHTTP2) at /firehose_api_v1.Firehose/GetEvents, the key in x-api-key
// metadata, statuses mapped to their gRPC codes (401 UNAUTHENTICATED, 403 PERMISSION_DENIED, 400
// INVALID_ARGUMENT, 404 UNIMPLEMENTED, 429 RESOURCE_EXHAUSTED, 500 INTERNAL, 503 UNAVAILABLE). All
// three channels serve the same log under the same fault script.
//
// Events follow Cisco's JSON rendering: envelope keys first in wire order (recordUid,
// recordTimestamp, spacesTenantId, spacesTenantName, partnerTenantId, eventType), the payload key
// last, enums as names, int64 values as plain numbers, floats with a decimal point, scalar and
// repeated fields present at their defaults. Every key is the lowerCamel name of a field of Cisco's
// v1.2.6 proto and every value of that field's type (an int32 is a number, never a string), so
// protojson reads every line of a known type into an EventRecord without dropping a key, and the
// first event of each type fills every sub-message its payload can carry.
//
// # The log
//
// Log describes the events: every one is a pure function of the seed, the start time and its index,
// made on demand, so huge histories and fast rates cost no memory. Timestamps are not monotonic and
// about one uid in 128 repeats with another timestamp, as on the real firehose — see Log for the
// exact rules, and Partition for how a uid maps to its partition.
//
// # Faults
//
// WithScript scripts connection attempts one by one (Conn): refuse with any status and Retry-After,
// cut between lines or in the middle of one, stall without keep-alives, end cleanly, re-send a burst
// of duplicates, inject malformed, oversized or unknown-type lines, or WebSocket binary messages.
// WithChaos applies random faults, deterministic from a seed, to the attempts the script leaves.
// Injected lines are never part of the Log; unknown-type events from WithUnknownTypes are.
//
// # synctest
//
// Loopback sockets never block durably, so testing/synctest cannot advance its fake clock against a
// TCP server. WithInMemory serves on net.Pipe connections instead; create the server inside the
// bubble and use Server.Client (or an http.Transport whose DialContext is Server.DialContext):
// keep-alives after 15 s then take no real time at all.
//
// # Transports
//
// Every channel's handler shares one serving core — validation, refusals, the scripted stream of
// events, duplicates, injections and keep-alives, and the bookkeeping behind Requests and Served —
// and adds only its own framing, so every option and fault means the same on all of them.
package firehosetest
