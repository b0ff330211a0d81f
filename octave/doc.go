// Package octave consumes Sierra Wireless Octave event streams over its WebSocket
// (spec/dialects.md §2) behind the firehose engine: the same Stream, Run, Stats, checkpoints,
// backoff, idle watchdog and duplicate window as Cisco's channels.
//
//	streams, err := octave.NewStreams("/my-co/devices/d1/cpu", "s53b1d1600cf27b75148de0ac")
//	if err != nil { … }
//	c, err := firehose.New(
//		octave.Source(octave.Config{Company: "my-co", User: "me", Token: token, Streams: streams, GapFill: true}),
//		firehose.WithCheckpointer(firehose.NewFileCheckpointer("octave.ckpt")),
//	)
//	if err != nil { … }
//	err = c.Run(ctx, func(ctx context.Context, ev *firehose.Event) error {
//		// ev.ID() is the event's id, ev.Timestamp() its creationDate, ev.JSON() the event object;
//		// its type is the stream's name as subscribed (path or id).
//		return nil
//	})
//	// Later, from any goroutine: streams.Subscribe("/my-co/devices/d2/cpu"), streams.Unsubscribe(…).
//
// # Each connection
//
// A fresh POST /session (X-Auth-Company, X-Auth-Token, and X-Auth-User unless the token is
// restricted), then at once the socket /session/{id}/ws, then a subscribe for every stream of the
// set, each with a msgId of its own. Replies are matched by msgId: an ack settles the stream; a
// refusal with 404 or 403 drops the stream for good (Streams.Err says why; the run ends with a
// fatal error when no stream is left); any other refusal is sent again after a backoff (500 ms
// doubling to 30 s). A subscribe unanswered for Config.AckTimeout ends the connection. A single
// writer goroutine sends the requests and, every Config.Heartbeat (10 s), {"type":"heartbeat"}
// and a WebSocket ping; pongs count as liveness, since Octave sends nothing on a quiet stream.
// After Config.Probe (15 s) without a message, a probe (a subscribe to a stream no one has) must
// be answered within Config.AckTimeout, or the connection is replaced: a server can answer pings
// and push nothing. Server frames are routed by shape: with a head, a reply; "type":"message", an
// event; anything else is logged and ignored.
//
// Bad credentials (400, 401 or 403 on POST /session) are retried once with a fresh session,
// then end the run with a fatal *firehose.StatusError carrying the status and the server's
// message. The token never appears in errors, logs or fmt output.
//
// # Gap-fill
//
// With Config.GapFill, whenever a stream's subscribe is acknowledged after a time without a
// subscription (every connection, and a subscribe acked after refusals), the stream is
// back-filled over REST (GET /v5.0/{company}/event/{streamId}, or ?path=) from the newest
// creationDate delivered before that time, inclusive,
// ascending, page by page, skipping the events at that date already delivered; the fill stops
// where the socket's live pushes of the stream begin. Back-filled events are delivered like
// pushed ones, before the socket's messages that arrived meanwhile. If the stream no longer holds
// the newest event delivered before the gap, its capacity evicted events the fill cannot
// recover: Next reports a *firehose.GapError (GapEvicted). The first subscription of a stream
// in a run fills from the moment it was sent, never earlier. A failing REST request parks the
// fill while live events go on; it resumes where it stopped after a backoff.
//
// The source implements firehose.Cursor: each checkpoint holds every stream's position (its
// newest creationDate and the ids delivered at it; the position a gap opened at while it is
// still open), so a restarted process gap-fills each stream from where it stopped.
//
// See README.md for the guarantees and what gap-fill cannot recover.
package octave
