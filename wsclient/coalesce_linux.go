package wsclient

import (
	"errors"
	"net"
	"os"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Read coalescing (Linux). A server that writes one frame per write(2)
// makes a fast reader wake up for every frame: most of its CPU then goes to
// wake-ups and syscalls, not to the frames. While the traffic is dense, the
// socket's SO_RCVLOWAT asks the kernel not to report it readable before
// coalesceLowat bytes are queued, and every wait for bytes is bounded by
// coalescePoll: one wake-up then brings tens of frames. The first wait that
// runs out of time turns it off again (the bytes already queued are read at
// once), so the last frames of a burst wait at most one poll, and an idle
// stream waits with no timer of ours.
//
// "Dense" means faster than 50,000 reads a second, four in a row: a replay
// or catch-up burst, not a live stream. A live stream at a steady 20,000
// frames a second, which would otherwise have coalescing flip on and off,
// keeps every frame prompt (BenchmarkFrameLatency, medians of 3 runs: p50
// 40 µs with a 20 µs threshold, 650 µs with 100 µs). The poll's deadline is Go's netpoller's,
// which on Linux sleeps in whole milliseconds when nothing else wakes it: a
// poll of 200 µs can last up to about 1 ms.
const (
	coalesceLowat = 64 << 10
	coalescePoll  = 200 * time.Microsecond
	// denseGap and denseReads: this many reads in a row, each returning
	// within denseGap of the one before, mean the traffic is dense.
	denseGap   = 20 * time.Microsecond
	denseReads = 4
)

// coalesceConn is the socket under gorilla with coalescing reads. Its read
// deadline is the caller's (gorilla's: an interrupt, the close wait) merged
// with the poll's; Read runs on one goroutine at a time (gorilla's reader),
// SetReadDeadline may come from any.
type coalesceConn struct {
	net.Conn
	raw syscall.RawConn

	mu      sync.Mutex
	user    time.Time // the read deadline the caller set (zero: none)
	applied time.Time // the read deadline set on the socket
	pollEnd time.Time // the poll's end while a coalescing read waits, else zero

	// Read's own (one goroutine):
	on     bool      // SO_RCVLOWAT is set
	last   time.Time // when the previous read returned bytes
	streak int       // reads in a row within denseGap of each other
}

// coalesce wraps c when it is a socket whose SO_RCVLOWAT can be set, else
// returns it as is.
func coalesce(c net.Conn) net.Conn {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return c
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return c
	}
	cc := &coalesceConn{Conn: c, raw: raw}
	if cc.setLowat(1) != nil { // not a socket that knows the option
		return c
	}
	return cc
}

func (c *coalesceConn) setLowat(n int) error {
	var serr error
	err := c.raw.Control(func(fd uintptr) {
		serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVLOWAT, n)
	})
	if err != nil {
		return err
	}
	return serr
}

// deadlineLocked is the read deadline the socket should have now: the
// caller's, or the poll's end if earlier. c.mu is held.
func (c *coalesceConn) deadlineLocked() time.Time {
	if !c.pollEnd.IsZero() && (c.user.IsZero() || c.pollEnd.Before(c.user)) {
		return c.pollEnd
	}
	return c.user
}

// applyLocked sets the socket's read deadline if it changed. c.mu is held.
func (c *coalesceConn) applyLocked() error {
	d := c.deadlineLocked()
	if d.Equal(c.applied) {
		return nil
	}
	c.applied = d
	return c.Conn.SetReadDeadline(d)
}

func (c *coalesceConn) Read(p []byte) (int, error) {
	if !c.on {
		n, err := c.Conn.Read(p)
		if n > 0 && err == nil {
			c.observe()
		}
		return n, err
	}
	c.mu.Lock()
	c.pollEnd = time.Now().Add(coalescePoll)
	derr := c.applyLocked()
	c.mu.Unlock()
	var n int
	var err error
	if derr == nil {
		n, err = c.Conn.Read(p)
	}
	c.mu.Lock()
	c.pollEnd = time.Time{}
	expired := derr != nil || (n == 0 && errors.Is(err, os.ErrDeadlineExceeded) &&
		(c.user.IsZero() || time.Now().Before(c.user)))
	if !expired {
		c.mu.Unlock()
		if n > 0 {
			c.last = time.Now()
		}
		return n, err // the caller's deadline, if it passed, stays applied
	}
	// The poll ran out (or could not be armed): the traffic is sparse.
	c.on, c.streak = false, 0
	lerr := c.setLowat(1)
	aerr := c.applyLocked()
	c.mu.Unlock()
	if lerr != nil || aerr != nil {
		return 0, errors.Join(lerr, aerr)
	}
	return c.Conn.Read(p)
}

// observe counts a read that returned bytes while coalescing is off, and
// turns it on when reads come dense.
func (c *coalesceConn) observe() {
	now := time.Now()
	if !c.last.IsZero() && now.Sub(c.last) < denseGap {
		c.streak++
	} else {
		c.streak = 0
	}
	c.last = now
	if c.streak >= denseReads && c.setLowat(coalesceLowat) == nil {
		c.on = true
	}
}

func (c *coalesceConn) SetReadDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.user = t
	return c.applyLocked()
}

func (c *coalesceConn) SetDeadline(t time.Time) error {
	if err := c.SetReadDeadline(t); err != nil {
		return err
	}
	return c.Conn.SetWriteDeadline(t)
}

// coalesceReadBuffer is gorilla's read buffer when reads are coalesced:
// room for several SO_RCVLOWAT's worth of frames per read(2).
const coalesceReadBuffer = 256 << 10
