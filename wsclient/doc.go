// Package wsclient is the WebSocket client under firehose's WebSocket
// sources (Cisco Spaces, Octave, call events) and yours: a firehose reader
// on top of gorilla/websocket that cannot hang, cannot be killed by one
// large message, and reports every message it drops.
//
//	c, resp, err := wsclient.Dial(ctx, "wss://example.com/events", wsclient.Options{
//		Header:    http.Header{"Authorization": {"Bearer " + token}},
//		Split:     wsclient.Messages,
//		MaxUnit:   1 << 20,
//		PingEvery: 20 * time.Second,
//		PongWait:  10 * time.Second,
//	})
//	var he *wsclient.HandshakeError
//	if errors.As(err, &he) {
//		// he.Status: 401 to log in again, 429 to wait for resp's Retry-After...
//	}
//	if err != nil {
//		return err
//	}
//	defer c.Close()
//	c.WriteText([]byte(`{"type":"subscribe"}`)) // from any goroutine
//	for {
//		unit, err := c.Next() // valid until the next call
//		var ue *wsclient.UnitError
//		switch {
//		case errors.As(err, &ue):
//			continue // one unit dropped (oversized, binary, empty, torn): counted, not fatal
//		case err != nil:
//			return err // *CloseError, io.ErrUnexpectedEOF, ErrPongTimeout, ctx's cause...
//		}
//		handle(unit)
//	}
//
// # What it does
//
//   - Dial: ctx aborts the whole handshake, including a server that accepts
//     the socket and never answers the upgrade (gorilla alone only watches
//     ctx while dialing). The TLS config is cloned and offers only
//     http/1.1. The environment's proxy is read at each Dial. A refused
//     upgrade is a *HandshakeError with the response, for the caller to
//     classify.
//   - Units: Next hands out whole messages (Messages) or the lines of
//     messages (Lines), read with gorilla's NextReader into one buffer the
//     Conn reuses: no copy and no allocation per unit. A unit over MaxUnit
//     is dropped as it arrives, in memory bounded by MaxUnit, and reported
//     as a *UnitError; the units around it are delivered and the connection
//     lives (gorilla's own read limit, which kills the connection, is kept
//     far above). Binary, empty and torn messages are reported the same way.
//   - Wake-ups (Linux): while frames arrive densely (faster than 50,000
//     reads a second: a replay burst, not a live stream), reads are
//     coalesced beneath gorilla: the socket's SO_RCVLOWAT lets 64 KiB queue
//     before the reader wakes, each wait bounded by 200µs (up to about 1 ms:
//     Go's netpoller sleeps in whole milliseconds) and merged with the
//     Conn's own deadlines; the first wait that runs out turns it off, so
//     the last frames of a burst are held back by at most that bound, a
//     live stream not at all, and an idle connection has no timer. One wake-up then reads tens of frames from a server that
//     writes one frame per write(2). NoCoalesce turns it off; elsewhere
//     reads are never coalesced.
//   - Liveness: pings every PingEvery; a ping unanswered past PongWait while
//     nothing at all arrives closes the socket (a half-open connection ends
//     in ErrPongTimeout rather than hanging); OnPong reports each pong.
//   - The end: a server close frame is a *CloseError (its reason stripped
//     of control characters and terminal escapes), a socket that ends
//     without one an error wrapping io.ErrUnexpectedEOF. When Dial's ctx
//     ends, a blocked Next returns context.Cause(ctx) after a close
//     handshake bounded by CloseWait, or at once when Abrupt says so (an
//     idle timeout: nobody is there to answer). Close sends a close frame,
//     waits up to CloseWait for the server's, and waits for every goroutine
//     the Conn started.
//
// # Out of scope
//
// Reconnecting, backoff, deduplication, idle detection and parsing are the
// caller's (firehose's engine does them for its sources). The Conn writes
// text messages only, uncompressed.
package wsclient
