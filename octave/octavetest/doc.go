// Package octavetest is a mock Sierra Wireless Octave for tests: the session host, the event
// WebSocket and the REST event API on one loopback listener, modelled on net/http/httptest.
// NewServer starts it at once, URL says where, and Close stops everything it started and waits for
// it. It speaks only the wire (it does not import the firehose client), so any client can be tested
// against it.
//
//	srv := octavetest.NewServer(
//		octavetest.WithStream("cpu", 100),                 // /test-co/cpu, keeps 100 events
//		octavetest.WithRate(200, "/test-co/cpu"),          // 200 live events a second
//		octavetest.WithScript(
//			octavetest.Conn{After: 50, Action: octavetest.Drop},                 // 1st socket: cut after 50 pushes
//			octavetest.Conn{Expire: true},                                        // 2nd: its id has expired
//			octavetest.Conn{After: 20, Action: octavetest.Close, CloseCode: 1011}, // 3rd: closed with 1011
//		),
//	)
//	defer srv.Close()
//	// POST srv.URL+"/session" with X-Auth-Company: test-co, X-Auth-User: test-user and
//	// X-Auth-Token: test-token, dial ws://…/session/{id}/ws, subscribe; back-fill with
//	// GET srv.URL+"/v5.0/test-co/event/{streamId}". Compare what arrived with srv.Events(stream).
//
// # The wire (spec/dialects.md §2)
//
// POST /session with X-Auth-Company, X-Auth-Token and X-Auth-User (omitted with a restricted
// token) answers 201 {"head":{"ok":true,"status":201,…},"body":{"id":"…"}}, or, for bad
// credentials, WithAuthStatus's status (400 by default, as flowthings did) with head.ok false and
// head.errors. The id opens one socket at /session/{id}/ws if dialed within WithSessionExpiry; an
// unknown, expired or used id is refused before the upgrade (WithRefuseStatus: 404 or 403).
//
// On the socket: subscribe and unsubscribe by streamId or path, each answered by a reply echoing
// its msgId (Octave's ack text, or head.ok false with a status and errors); heartbeats
// ({"type":"heartbeat"}) are accepted without a reply. Events are pushed as
// {"type":"message","resource":"<streamId>","value":<event>} to every socket subscribed to their
// stream.
//
// REST serves the events a stream still keeps (its capacity, default 1,000, as on Octave) at
// /v5.0/{company}/event/{streamId} and /v5.0/{company}/event?path=…, with filter (comparisons of
// creationDate and other numeric members), sort, order, start, limit and only; see rest.go.
//
// # Events
//
// Publish (or WithRate) creates events: id "e" + a MongoDB-style ObjectId whose first 8 hex digits
// are the creation second, streamId, path, creationDate (ms, never decreasing; equal values are
// common at high rates, as on any ms clock), generatedDate, version 0, the given elems, tags {}.
// Events keeps every event ever published, evicted ones included, for assertions.
//
// # Faults
//
// WithScript rules each session and its socket (Conn): refuse the POST with any status, expire the
// id before the dial, delay every ack, send pushes twice, and after N pushes drop the TCP
// connection, close with a code and reason, go silent (no pushes, replies or pongs) or mute (no
// pushes or replies, pings still answered). Kick does the same to every open socket at a moment of
// the test's choosing, and SendRaw writes any frame to them. WithReject refuses the
// subscribes of one stream (any status, from the n-th, some or all of them); WithAckDelay delays
// every reply; WithHeartbeatTimeout closes sockets whose client sent no data message in time;
// WithRESTFailures fails REST requests; WithPageLimits makes pages small.
//
// # Records
//
// Sessions, Dials, Requests (subscribes and unsubscribes with their answers), RESTRequests,
// Heartbeats and OpenSockets say what the server saw. The token is never recorded.
package octavetest
