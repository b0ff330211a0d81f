package firehose

import (
	"maps"
	"sync"
	"sync/atomic"
	"time"
)

// Stats is a snapshot of a stream's counters, or a client's: see
// Client.Stats for how it sums its streams.
type Stats struct {
	Range  Range  // the receiver's partitions (a client's sum: the union's bounds)
	Source string // the source's name ("http", "ws", "grpc", "octave", ...)
	Events int64  // events delivered
	// EventsByType counts the events delivered by type: each documented Cisco
	// type, and TypeOther for the rest (and for every other source).
	EventsByType       map[EventType]int64
	Bytes              int64 // bytes of the events delivered, as received
	KeepAlives         int64 // keep-alives received (never delivered)
	Duplicates         int64 // events dropped as already delivered
	Malformed          int64 // frames that were not events (bad JSON, no recordUid, WebSocket binary or empty messages)
	Oversized          int64 // frames larger than the max event size, skipped
	Torn               int64 // partial lines at the end of a connection, dropped (replayed on reconnect)
	BeforeStart        int64 // events older than the configured start, dropped (a replay margin reaching back, see WithStart)
	CheckpointFailures int64 // checkpoint saves that failed (each also reported through the error hook)
	Unknown            int64 // events of a type the proto's EventType enum has no number for, such as SPACE_OCCUPANCY (delivered all the same)
	Connects           int64 // successful connections
	Failures           int64 // failed connection attempts
	Reconnects         map[Cause]int64
	Gaps               int64 // possible gaps reported (see GapError): events may be missing
	GapsBy             map[GapReason]int64
	Connected          int       // receivers connected now
	State              State     // the receiver's state (a sum: the least healthy receiver's)
	RetryAt            time.Time // while backing off: when the next attempt goes out

	summed    int   // receivers summed into this snapshot
	Watermark int64 // the lowest receiver's watermark: epoch ms of the newest finished event
	LastEvent int64 // timestamp of the newest event delivered (epoch ms)
	Lag       time.Duration
	ResumedAt int64         // fromTimestamp of the latest connection (0: live)
	Downtime  time.Duration // how long the latest reconnect took, from the end of the previous connection
	LastError string        // the latest recoverable error, for status lines
}

// ReconnectTotal sums Reconnects.
func (s Stats) ReconnectTotal() int64 {
	var n int64
	for _, v := range s.Reconnects {
		n += v
	}
	return n
}

// counters are one stream's live statistics, written by its delivery
// goroutine and read by Stats from anywhere.
type counters struct {
	rng                                      Range
	events, bytes, keepAlives, duplicates    atomic.Int64
	malformed, oversized, torn, unknown      atomic.Int64
	connects, failures, gaps                 atomic.Int64
	watermark, lastTS, resumedFrom, downtime atomic.Int64
	connected                                atomic.Bool
	eof, network, idle, limited, srv, cancel atomic.Int64
	mu                                       sync.Mutex
	lastErr                                  string
	beforeStart, checkpointFailures          atomic.Int64
	state                                    atomic.Uint32
	retryAt                                  atomic.Int64
	byType                                   [len(documentedTypes) + 1]atomic.Int64 // the last: TypeOther
	open                                     atomic.Bool                            // the stream is not closed
	source                                   string
	gapsBy                                   map[GapReason]int64 // rare: under mu
}

func (c *counters) countReconnect(k Cause) {
	switch k {
	case CauseEOF:
		c.eof.Add(1)
	case CauseIdle:
		c.idle.Add(1)
	case CauseRateLimited:
		c.limited.Add(1)
	case CauseServer:
		c.srv.Add(1)
	case CauseCanceled:
		c.cancel.Add(1)
	default:
		c.network.Add(1)
	}
}

// setLastError keeps the latest trouble's text, already cleaned of secrets.
func (c *counters) setLastError(msg string) {
	c.mu.Lock()
	c.lastErr = msg
	c.mu.Unlock()
}

func (c *counters) countGap(r GapReason) {
	c.gaps.Add(1)
	c.mu.Lock()
	if c.gapsBy == nil {
		c.gapsBy = map[GapReason]int64{}
	}
	c.gapsBy[r]++
	c.mu.Unlock()
}

func (c *counters) snapshot(now time.Time) Stats {
	s := Stats{Reconnects: map[Cause]int64{}}
	c.addCounts(&s)
	c.addState(&s)
	s.finish(now)
	return s
}

// addState adds what describes the stream's present to a sum: its range,
// state, connection and watermark.
func (c *counters) addState(s *Stats) {
	if s.Range == (Range{}) {
		s.Range = c.rng
	} else {
		s.Range = Range{Min: min(s.Range.Min, c.rng.Min), Max: max(s.Range.Max, c.rng.Max)}
	}
	if c.connected.Load() {
		s.Connected++
	}
	if st := State(c.state.Load()); s.summed == 0 || st.severity() > s.State.severity() {
		s.State = st
		if st == StateBackingOff {
			s.RetryAt = time.UnixMilli(c.retryAt.Load())
		}
	}
	s.summed++
	if wm := c.watermark.Load(); wm > 0 && (s.Watermark == 0 || wm < s.Watermark) {
		s.Watermark = wm
	}
}

// addCounts adds the stream's counts over its life (and its source's name)
// to a sum.
func (c *counters) addCounts(s *Stats) {
	if s.Source == "" {
		s.Source = c.source
	}
	for i := range c.byType {
		n := c.byType[i].Load()
		if n == 0 {
			continue
		}
		if s.EventsByType == nil {
			s.EventsByType = map[EventType]int64{}
		}
		if i < len(documentedTypes) {
			s.EventsByType[documentedTypes[i]] += n
		} else {
			s.EventsByType[TypeOther] += n
		}
	}
	s.Events += c.events.Load()
	s.Bytes += c.bytes.Load()
	s.KeepAlives += c.keepAlives.Load()
	s.Duplicates += c.duplicates.Load()
	s.Malformed += c.malformed.Load()
	s.Oversized += c.oversized.Load()
	s.Torn += c.torn.Load()
	s.Unknown += c.unknown.Load()
	s.BeforeStart += c.beforeStart.Load()
	s.CheckpointFailures += c.checkpointFailures.Load()
	s.Connects += c.connects.Load()
	s.Failures += c.failures.Load()
	s.Gaps += c.gaps.Load()
	for k, v := range map[Cause]int64{CauseEOF: c.eof.Load(), CauseNetwork: c.network.Load(), CauseIdle: c.idle.Load(),
		CauseRateLimited: c.limited.Load(), CauseServer: c.srv.Load(), CauseCanceled: c.cancel.Load()} {
		if v > 0 {
			s.Reconnects[k] += v
		}
	}
	s.LastEvent = max(s.LastEvent, c.lastTS.Load())
	s.ResumedAt = max(s.ResumedAt, c.resumedFrom.Load())
	s.Downtime = max(s.Downtime, time.Duration(c.downtime.Load()))
	c.mu.Lock()
	if c.lastErr != "" {
		s.LastError = c.lastErr
	}
	for r, n := range c.gapsBy {
		if s.GapsBy == nil {
			s.GapsBy = map[GapReason]int64{}
		}
		s.GapsBy[r] += n
	}
	c.mu.Unlock()
}

// absorb adds the counts of o, a closed stream's, to c: what addCounts
// reads of o, addCounts then reads of c.
func (c *counters) absorb(o *counters) {
	if c.source == "" {
		c.source = o.source
	}
	for i := range c.byType {
		c.byType[i].Add(o.byType[i].Load())
	}
	for _, p := range [...][2]*atomic.Int64{
		{&c.events, &o.events}, {&c.bytes, &o.bytes}, {&c.keepAlives, &o.keepAlives},
		{&c.duplicates, &o.duplicates}, {&c.malformed, &o.malformed}, {&c.oversized, &o.oversized},
		{&c.torn, &o.torn}, {&c.unknown, &o.unknown}, {&c.beforeStart, &o.beforeStart},
		{&c.checkpointFailures, &o.checkpointFailures}, {&c.connects, &o.connects},
		{&c.failures, &o.failures}, {&c.gaps, &o.gaps},
		{&c.eof, &o.eof}, {&c.network, &o.network}, {&c.idle, &o.idle},
		{&c.limited, &o.limited}, {&c.srv, &o.srv}, {&c.cancel, &o.cancel},
	} {
		p[0].Add(p[1].Load())
	}
	for _, p := range [...][2]*atomic.Int64{{&c.lastTS, &o.lastTS}, {&c.resumedFrom, &o.resumedFrom}, {&c.downtime, &o.downtime}} {
		p[0].Store(max(p[0].Load(), p[1].Load()))
	}
	o.mu.Lock()
	lastErr := o.lastErr
	gaps := maps.Clone(o.gapsBy)
	o.mu.Unlock()
	c.mu.Lock()
	if lastErr != "" {
		c.lastErr = lastErr
	}
	for r, n := range gaps {
		if c.gapsBy == nil {
			c.gapsBy = map[GapReason]int64{}
		}
		c.gapsBy[r] += n
	}
	c.mu.Unlock()
}

func (s *Stats) finish(now time.Time) {
	if s.LastEvent > 0 {
		s.Lag = max(now.Sub(time.UnixMilli(s.LastEvent)), 0)
	}
}
