package firehose

import "time"

// State is where a receiver stands, for status lines and dashboards.
type State uint8

// The states of a receiver. A Client's Stats sums them: the least healthy
// receiver's state wins.
const (
	StateIdle       State = iota // not started, or between calls of Next
	StateConnecting              // an attempt is under way
	StateConnected               // a connection is open
	StateBackingOff              // waiting before the next attempt (Stats.RetryAt says until when)
	StateStopped                 // closed, or ended by a fatal error
)

func (s State) String() string {
	switch s {
	case StateConnecting:
		return "connecting"
	case StateConnected:
		return "connected"
	case StateBackingOff:
		return "backing off"
	case StateStopped:
		return "stopped"
	}
	return "idle"
}

// severity orders states for a sum: a backing-off receiver makes the group
// backing off, whatever the others do.
func (s State) severity() int {
	switch s {
	case StateConnected:
		return 0
	case StateIdle:
		return 1
	case StateConnecting:
		return 2
	case StateBackingOff:
		return 3
	}
	return 4
}

// setState records the receiver's state; retryAt is when a backoff ends.
func (c *counters) setState(s State, retryAt time.Time) {
	c.state.Store(uint32(s))
	if s == StateBackingOff {
		c.retryAt.Store(retryAt.UnixMilli())
	}
}
