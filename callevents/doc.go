// Package callevents consumes the QVoice/fonoUC call-event firehose through the firehose engine: a
// token login (POST /ws/v1/firehose/login) followed by a WebSocket (/ws/v1/firehose/callEvents)
// that pushes the KAZOO/FreeSWITCH call events (CHANNEL_CREATE, CHANNEL_ANSWER, …) of an account
// tree.
//
//	c, err := firehose.New(callevents.Source(callevents.Config{
//		BaseURL:  "pbx.example.com", // https://pbx.example.com:9443
//		Username: "api", Password: os.Getenv("QVOICE_PASSWORD"), Domain: "example.com",
//		Events:   []string{callevents.ChannelAnswer, callevents.ChannelDestroy},
//	}))
//	if err != nil { … }
//	err = c.Run(ctx, func(ctx context.Context, ev *firehose.Event) error {
//		fmt.Println(ev.Type(), ev.ID(), string(ev.JSON())) // JSON: the event object, unwrapped
//		return nil
//	})
//
// # What the source does
//
// It logs in with the credentials and the optional accounts and events filters, reads the token's
// exp without verifying it, and opens the socket with the token in an Authorization: Bearer header
// (Config.TokenInQuery puts it in the URL instead). Shortly before exp it logs in again with the
// same filters and moves to a fresh socket, reading the previous one for a short grace so nothing
// in flight is lost. A 401 or 403 at the upgrade gets one fresh login; a 4xx at the login (bad
// credentials, an account outside the caller's tree; all but 408, 425 and 429) gets one more
// attempt and then ends the stream with the status and the server's message
// (errors.Is(err, firehose.ErrFatal)); a 5xx is retried with backoff. It pings every third of the idle timeout and counts pongs as liveness,
// so a night without calls never reconnects, while a socket that carries neither a frame nor a
// pong for the idle timeout (half-open) is left for a fresh one. The password and the tokens never
// appear in logs, errors, Stats or fmt output.
//
// # What arrives
//
// The firehose does not document its payload. Each message is split into its JSON values (one is
// the documented case) and each value is normalised (Normalize) from one of three candidate shapes
// — KAZOO's AMQP call_event, bare or in a Blackhole envelope; KAZOO's webhook body; FreeSWITCH's
// event-json — onto the engine's core: an id to deduplicate on (Msg-ID, else Core-UUID and
// Event-Sequence, else a fixed hash of name, call id and time), the time in Unix milliseconds, the
// event name as the type, and the unwrapped object as the raw bytes. An object of any other shape
// is delivered as it is with a best-effort id; only bytes that are not JSON are dropped (counted as
// malformed).
//
// # What it cannot do
//
// There is no replay: events that happen while no socket is open are lost. Every reconnect is
// reported as a *firehose.GapError (firehose.GapNoReplay) with its downtime — through Stats, the
// logger and the error hook — and never filled. The token refresh opens the fresh socket before
// leaving the old one precisely so that it costs no reconnect and no gap.
//
// The package calleventstest is a mock server for tests.
package callevents
