package firehose

import (
	"errors"
	"io"
	"time"
)

// Cause names why a connection ended, for Stats and logs.
type Cause string

// The causes the engine tells apart.
const (
	CauseEOF         Cause = "eof"          // the server ended the stream cleanly
	CauseNetwork     Cause = "network"      // a reset, a cut mid-line, a dial error
	CauseIdle        Cause = "idle"         // silence past the idle timeout
	CauseRateLimited Cause = "rate_limited" // 429, RESOURCE_EXHAUSTED, close 1013
	CauseServer      Cause = "server"       // 5xx, UNAVAILABLE, INTERNAL, other statuses
	CauseCanceled    Cause = "canceled"     // an earlier call's ctx ended mid-read
)

func classify(err error) Cause {
	var se *StatusError
	switch {
	case errors.Is(err, ErrIdleTimeout):
		return CauseIdle
	case errors.Is(err, errCallerDone):
		return CauseCanceled
	case errors.As(err, &se):
		if se.Code == 429 {
			return CauseRateLimited
		}
		return CauseServer
	case errors.Is(err, ErrTryLater):
		return CauseRateLimited
	case errors.Is(err, io.EOF):
		return CauseEOF
	}
	return CauseNetwork
}

// ConnectInfo describes one successful connection, for WithConnectHook.
type ConnectInfo struct {
	Range     Range
	Source    string        // the source's name: "http", "ws" or "grpc" for Cisco's channels, "octave", ...
	Transport Transport     // Cisco's channel (the source's name as a Transport)
	From      int64         // the resume point sent (epoch ms; 0: live or none)
	Reconnect bool          // false for the stream's first connection
	Cause     error         // why the previous connection ended (nil for the first)
	Downtime  time.Duration // from the previous connection's end to this one
}
