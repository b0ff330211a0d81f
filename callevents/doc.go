// Package callevents consumes the QVoice/fonoUC call-event firehose: a token login
// (POST /ws/v1/firehose/login) followed by a WebSocket (/ws/v1/firehose/callEvents) that pushes
// KAZOO/FreeSWITCH call events (CHANNEL_CREATE, CHANNEL_ANSWER, …) of an account tree.
//
// The firehose documents neither its payload nor its keep-alive, expiry or replay behaviour, so
// this package assumes as little as it can: Split and Normalize accept the three candidate shapes
// (KAZOO's AMQP call_event, bare or in a Blackhole envelope; KAZOO's webhook body; FreeSWITCH's
// event-json) and deliver anything else raw with a best-effort id.
//
// There is no replay: events that happen while the socket is down are lost, and every reconnect is
// reported as a gap — never filled.
//
// The package calleventstest is a mock server for tests.
package callevents
