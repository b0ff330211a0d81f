package firehose

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// watchdog drops a connection that stays silent past the idle timeout while
// the engine waits for it. It never resets a timer per frame: it samples a
// progress counter the engine bumps around each read (odd while waiting), so
// the time the caller holds an event never counts as silence. A source's
// liveness signal (ConnectRequest.Alive) adds two: the value changes, its
// parity does not.
type watchdog struct {
	mu      sync.Mutex
	t       *time.Timer
	p       *atomic.Uint64
	last    uint64
	quiet   int
	stopped bool
	cancel  context.CancelCauseFunc
}

const watchdogTicks = 4 // samples per idle timeout

func startWatchdog(p *atomic.Uint64, idle time.Duration, cancel context.CancelCauseFunc) *watchdog {
	w := &watchdog{p: p, last: p.Load(), cancel: cancel}
	every := max(idle/watchdogTicks, time.Millisecond)
	w.t = time.AfterFunc(every, func() { w.sample(every) })
	return w
}

func (w *watchdog) sample(every time.Duration) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.stopped {
		return
	}
	v := w.p.Load()
	switch {
	case v != w.last || v&1 == 0:
		w.last, w.quiet = v, 0
	default:
		w.quiet++
		if w.quiet >= watchdogTicks {
			w.stopped = true
			w.cancel(ErrIdleTimeout)
			return
		}
	}
	w.t.Reset(every)
}

func (w *watchdog) stop() {
	if w == nil {
		return
	}
	w.mu.Lock()
	w.stopped = true
	w.t.Stop()
	w.mu.Unlock()
}
