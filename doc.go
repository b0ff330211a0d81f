// Package firehose consumes event firehoses without losing, repeating or
// hanging. Every firehose is a Source behind one engine (see Source and
// WithSource): the Cisco Spaces Partner Firehose over any of its three pull
// channels — a long-lived HTTP GET streaming NDJSON (HTTP/1.1 or HTTP/2), a
// WebSocket with one JSON event per message, and a gRPC server stream — is
// built in; Sierra Wireless Octave (package octave) and QVoice/fonoUC call
// events (package callevents) plug in through the same public seam, as can a
// firehose of your own. Whatever the source, the caller gets the same Event,
// the same guarantees and the same knobs.
//
//	c, err := firehose.New(
//		firehose.WithAPIKey(os.Getenv("FIREHOSE_API_KEY")),
//		firehose.WithRegion(firehose.RegionEurope),
//		firehose.WithTransport(firehose.TransportHTTP),
//	)
//	if err != nil {
//		return err
//	}
//	err = c.Run(ctx, func(ctx context.Context, ev *firehose.Event) error {
//		if ev.Type() != firehose.DeviceLocationUpdate {
//			return nil
//		}
//		var loc struct{ XPos, YPos float64 }
//		return ev.Decode(&loc)
//	})
//
// or, pulling:
//
//	s, err := c.Open(ctx) // connects: a wrong key fails here
//	defer s.Close()
//	for ev, err := range s.All(ctx) { ... }
//
// # Delivery guarantees
//
// The server promises at-least-once delivery and replays by timestamp within a
// rolling window of about an hour. On top of that, this package:
//
//   - Never loses an event across disconnects: every reconnect asks for
//     fromTimestamp = watermark − replay margin (default 10 s), where the
//     watermark is the highest recordTimestamp among events the caller has
//     finished with — with Next, when it asks for the next event; with Run,
//     when the handler returns; with All, also when the loop is broken; with
//     Close, the event held. Keep-alives, duplicates and malformed lines never
//     move it, and neither does the local clock. Before the first event the
//     resume point is the configured start or, for a live start, the moment
//     the first connection opened (the server's Date header) minus the margin.
//     A resume point older than the replay window (default 55 min) is clamped
//     and reported as a possible gap: a *GapError (errors.Is(err, ErrGap)) in
//     Stats.Gaps and Stats.GapsBy, the logger and WithErrorHook. The resume
//     point never passes the local clock plus DefaultClockSkew, whatever the
//     timestamps say. Sources that cannot replay by timestamp declare it
//     (Resume): one that cannot replay at all reports every reconnect as a
//     gap with its downtime.
//   - Never hands the same event twice within the duplicate window: a bounded
//     window (default 262,144 events per receiver) of 64-bit fingerprints of
//     (recordUid, recordTimestamp), kept across reconnects.
//   - Never hands a keep-alive (KEEP_ALIVE events only prove the link is alive).
//   - Never hangs on a silent connection: silence past the idle timeout
//     (default 45 s) while waiting for data drops the connection and replays.
//     Time the caller spends holding an event does not count.
//   - Never retries a bad key: 401, 403, 400 and 404 (gRPC UNAUTHENTICATED,
//     PERMISSION_DENIED, INVALID_ARGUMENT, UNIMPLEMENTED) end the stream at once
//     with a *StatusError that errors.Is(err, ErrFatal).
//   - Never hammers a server that said 429: Retry-After is honoured (capped at
//     5 min), else exponential backoff with a 5 s floor. Server errors and
//     network errors back off exponentially with jitter (250 ms to 30 s by
//     default), never give up unless told (WithRetryLimit), and start over
//     after a connection that delivered events for DefaultHealthyAfter; two
//     attempts are never closer than the initial backoff.
//
// Events are delivered in the order received, per connection; with several
// receivers, handlers for different receivers run concurrently. Delivery is
// synchronous: a slow handler slows reading, and nothing buffers without
// bound.
//
// Bad input never ends a stream and never loses a good event: malformed lines,
// lines over the max event size (default 8 MiB, skipped in bounded memory),
// a torn last line at a disconnect, WebSocket binary messages — each is
// counted in Stats, logged and dropped. Events of unknown types are delivered
// with their name kept.
//
// # Channels
//
// TransportHTTP reads one long-lived GET, over HTTP/2 when the server offers
// it through TLS ALPN. TransportWebSocket reads one event per text message
// (several lines in one message are several events; binary messages are
// dropped); pings keep the socket open but only data proves the firehose is
// alive. TransportGRPC reads the GetEvents server stream at the wire's
// method path (/firehose_api_v1.Firehose/GetEvents); records are kept as
// bytes and only their envelope is decoded, so JSON and Record are made on
// demand. Client.GRPCConn gives a connection for the unary RPCs.
//
// Every Event, whatever its channel, has the same core and the same JSON
// shape; Record returns it as the typed *firehosev1.EventRecord.
//
// # Speed
//
// The envelope is scanned without parsing the payload, the duplicate window
// holds no pointers, and delivery runs on the caller's goroutine with no
// channel in the way: an owned Event costs one copy of its line and two
// allocations. RunBorrowed skips the copy: its BorrowedEvent is valid only
// until the handler returns (under go test its bytes are poisoned right
// after, so a handler that keeps them fails its tests).
//
// # Restarts and scale
//
// With WithCheckpointer, the position (the watermark and the events finished
// inside the replay margin) is saved every second and on Close; a graceful
// restart repeats nothing, a crash repeats about one interval. Twelve
// partitions can be split over up to twelve receivers: WithReceiver(i, n) for
// one process per receiver (a Kubernetes StatefulSet whose ordinal is i, each
// pod with its own checkpoint), WithReceivers(n) for n connections in one
// process.
//
// # Out of scope
//
// The push channels (Kinesis, Event Hubs, Pub/Sub), fan-out to downstream
// systems (use Kafka or the like), and the REST APIs beside the firehose.
package firehose
