package main

import (
	"bufio"
	"errors"
	"io"
	"sync"
	"syscall"
	"time"
)

// outputBuffer is the size of tail's stdout buffer.
const outputBuffer = 256 << 10

// flushEvery bounds how long a delivered event may wait in the buffer when
// the stream goes quiet.
const flushEvery = 100 * time.Millisecond

// output is tail's stdout: one buffered line per event. Writing an event
// costs a copy into the buffer under an uncontended mutex; a flusher
// goroutine empties the buffer every flushEvery so an interactive reader sees
// events at once, and a full buffer flushes itself.
type output struct {
	mu  sync.Mutex
	raw io.Writer
	w   *bufio.Writer
	err error // the first write error, sticky

	stop chan struct{}
	done chan struct{}
}

// newOutput starts the flusher; onErr is called once, from the flusher, if a
// flush fails while the writer is idle (the delivery loop may be blocked
// waiting for the next event and would not notice).
func newOutput(w io.Writer, onErr func(error)) *output {
	o := &output{raw: w, w: bufio.NewWriterSize(w, outputBuffer), stop: make(chan struct{}), done: make(chan struct{})}
	go o.flusher(onErr)
	return o
}

// writeLine writes line and a newline. Lines are never split between two
// writes to the underlying writer: a status line on the same terminal can
// only ever land between whole events.
func (o *output) writeLine(line []byte) error {
	o.mu.Lock()
	if o.err == nil && len(line)+1 > o.w.Available() && o.w.Buffered() > 0 {
		o.err = o.w.Flush()
	}
	switch {
	case o.err != nil:
	case len(line)+1 > o.w.Available():
		// Larger than the buffer: one write of its own.
		_, o.err = o.raw.Write(append(line[:len(line):len(line)], '\n'))
	default:
		o.w.Write(line) // fits: cannot fail
		o.w.WriteByte('\n')
	}
	err := o.err
	o.mu.Unlock()
	return err
}

// flush writes out what is buffered.
func (o *output) flush() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.err == nil && o.w.Buffered() > 0 {
		o.err = o.w.Flush()
	}
	return o.err
}

func (o *output) flusher(onErr func(error)) {
	defer close(o.done)
	t := time.NewTicker(flushEvery)
	defer t.Stop()
	for {
		select {
		case <-o.stop:
			return
		case <-t.C:
			if err := o.flush(); err != nil {
				onErr(err)
				return
			}
		}
	}
}

// close stops the flusher and flushes the rest; it returns the first write
// error.
func (o *output) close() error {
	close(o.stop)
	<-o.done
	return o.flush()
}

// isBrokenPipe reports whether err means the reader of stdout went away
// (firehose tail | head): not a failure, just the end.
func isBrokenPipe(err error) bool {
	return errors.Is(err, syscall.EPIPE) || errors.Is(err, io.ErrClosedPipe)
}
