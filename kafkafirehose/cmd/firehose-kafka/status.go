package main

import (
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/firehose-go/firehose/kafkafirehose"
)

// status prints one line of counters to stderr every interval and a last one
// when stopped. Its goroutine ends in stop.
type status struct {
	w     io.Writer
	stats func() kafkafirehose.Stats
	done  chan struct{}
	wg    sync.WaitGroup
	start time.Time
}

func startStatus(w io.Writer, every time.Duration, stats func() kafkafirehose.Stats) *status {
	s := &status{w: w, stats: stats, done: make(chan struct{}), start: time.Now()}
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
				s.print()
			}
		}
	}()
	return s
}

func (s *status) print() {
	st := s.stats()
	secs := max(time.Since(s.start).Seconds(), 1e-3)
	fmt.Fprintf(s.w, "firehose-kafka: %d events (%.0f/s), %d acked, %d checkpoints, %d reconnects, watermark %d\n",
		st.Produced, float64(st.Produced)/secs, st.Acked, st.Commits, st.Firehose.ReconnectTotal(), st.Firehose.Watermark)
}

func (s *status) stop() {
	close(s.done)
	s.wg.Wait()
	s.print()
}
