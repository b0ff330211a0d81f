package main

import (
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/firehose-go/firehose"
	"github.com/firehose-go/firehose/pgfirehose"
)

// status prints one line to stderr every interval, and a last one at stop.
type status struct {
	w     io.Writer
	fh    func() firehose.Stats
	pg    func() pgfirehose.SinkStats
	done  chan struct{}
	wg    sync.WaitGroup
	start time.Time
}

func startStatus(w io.Writer, every time.Duration, fh func() firehose.Stats, pg func() pgfirehose.SinkStats) *status {
	s := &status{w: w, fh: fh, pg: pg, done: make(chan struct{}), start: time.Now()}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-s.done:
				return
			case <-t.C:
				s.print("")
			}
		}
	}()
	return s
}

func (s *status) print(prefix string) {
	f, p := s.fh(), s.pg()
	line := fmt.Sprintf("firehose-pg: %s%d events in %s, %d inserted, %d already there, %d pending, %d commits, watermark %d, %d reconnects",
		prefix, f.Events, time.Since(s.start).Round(time.Second), p.Inserted, p.Conflicts, p.Pending, p.Batches, f.Watermark, f.ReconnectTotal())
	if f.LastError != "" {
		line += ", last error: " + f.LastError
	}
	fmt.Fprintln(s.w, line)
}

// stop ends the ticker and prints the final line.
func (s *status) stop() {
	close(s.done)
	s.wg.Wait()
	s.print("done: ")
}
