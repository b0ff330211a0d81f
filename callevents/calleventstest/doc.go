// Package calleventstest is a mock QVoice/fonoUC call-event firehose for tests and demos, modelled
// on net/http/httptest: NewServer starts it on loopback at once, URL says where, and Close stops
// everything it started and waits for it. It speaks only the wire — it imports neither the firehose
// client nor its callevents source — so any client can be tested against it.
//
//	srv := calleventstest.NewServer(
//		calleventstest.WithTokenTTL(2*time.Second),            // tokens expire mid-stream…
//		calleventstest.WithExpiryClose(4001),                  // …and the socket is closed then
//		calleventstest.WithWrap(calleventstest.WrapBlackhole), // frames come wrapped
//	)
//	defer srv.Close()
//	srv.FailLogins(1, 503) // the first login fails
//	// point the client at srv.URL with the user "admin", password "adminpassword", domain
//	// "master.test"; wait for srv.WaitSockets(ctx, 1); then:
//	srv.Publish(calleventstest.CustomerAccount, calleventstest.ChannelAnswer, nil)
//	srv.HalfOpenAll() // the socket goes silent and stops answering pings
//	// compare what the client delivered with srv.Events(); look at srv.Logins() and
//	// srv.Connections().
//
// # The wire
//
// POST URL + LoginPath with {"username","password","domain"} and the optional filters
// {"accounts":[ids…],"events":[names…]} answers {"access_token":"<JWT>"}: an HS256 JWT whose claims
// are identity ("<account id>:<account name>"), type ("access") and exp (epoch seconds), as on the
// real server. Bad credentials answer 401, an account outside the caller's subtree 403 (see
// WithForeignAccountStatus), both with a JSON body {"message": …}. The filters are remembered with
// the token.
//
// GET URL + EventsPath with a WebSocket upgrade and the token in "Authorization: Bearer" or in the
// "token" query parameter opens the stream; a missing, invalid, unknown or expired token is refused
// with 401 before the upgrade. The server then sends one event object per text message — events of
// the token's accounts (its own account and all descendants when the login had no accounts filter)
// and names — answers pings, and closes the socket when the token expires (WithExpiryClose).
//
// # Events
//
// Publish sends an event; WithRate generates calls. Each event is rendered in one of the
// specification's three candidate shapes (Shape: KAZOO AMQP call_event, KAZOO webhook, FreeSWITCH
// event-json), bare or inside a Blackhole envelope (Wrap), switchable at run time. Only synthetic
// values appear: made-up ids, fictional 555-01xx numbers, documentation addresses.
//
// # Faults
//
// Token expiry with a configurable close code; DropAll (a TCP reset, no close frame); HalfOpenAll
// (no more pongs, no more events, no FIN); CloseAll (a close frame); slow logins (WithLoginDelay,
// SetLoginDelay); failing logins and upgrades (WithLoginFailures, FailLogins, FailConnects);
// revoked tokens (RevokeTokens); duplicate deliveries (WithDuplicates, SetDuplicates); events
// re-sent to a new socket (WithResendOnConnect); a client that stops reading is cut (WithQueue);
// messages no shape describes (SendRaw).
//
// # Assertions
//
// Logins, Connections and Events record what happened — never a password or a token — and
// WaitSockets waits for a number of open sockets.
package calleventstest
