// Package octave consumes Sierra Wireless Octave event streams over its WebSocket
// (spec/dialects.md §2): a fresh session per connection, a subscription per stream, heartbeats,
// and gap-fill over REST after every interruption. This file grows into the package's guide with
// the source on the engine's seam; wire.go, session.go and rest.go hold the protocol.
package octave
