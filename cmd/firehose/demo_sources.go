package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/firehose-go/firehose"
	"github.com/firehose-go/firehose/callevents"
	"github.com/firehose-go/firehose/callevents/calleventstest"
	"github.com/firehose-go/firehose/internal/cliexit"
	"github.com/firehose-go/firehose/octave"
	"github.com/firehose-go/firehose/octave/octavetest"
)

// The other sources' sections: each on its own mock, short and checked
// against what the mock published.
const (
	demoOctaveEvents = 300 // published one every demoOctaveEvery
	demoOctaveEvery  = 2 * time.Millisecond
	demoOctaveCut    = 60 // pushes before the first socket is dropped
	demoCallBatch    = 20 // call events published before and after the drop
	demoCallResend   = 5  // events the mock re-sends to a new socket
)

// sourceResult is what one of those sections saw.
type sourceResult struct {
	name      string
	what      string // the story, one line
	err       error
	elapsed   time.Duration
	stats     firehose.Stats
	delivered int
	twice     int
	published int
	missing   int
	notes     []string
	verdict   string // the verdict when ok
}

func (r *sourceResult) ok() bool {
	return r.err == nil && r.twice == 0 && r.missing == 0 && r.published > 0
}

func (r *sourceResult) print(w io.Writer) {
	st := r.stats
	fmt.Fprintf(w, "\n%s: %s\n", r.name, r.what)
	fmt.Fprintf(w, "  delivered:          %d events of %d published, in %s\n", r.delivered, r.published, r.elapsed.Round(10*time.Millisecond))
	fmt.Fprintf(w, "  reconnects:         %d", st.ReconnectTotal())
	if len(st.Reconnects) > 0 {
		fmt.Fprintf(w, " (%s)", causes(st.Reconnects))
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "  duplicates dropped: %d\n", st.Duplicates)
	fmt.Fprintf(w, "  possible gaps:      %d%s\n", st.Gaps, byKind(st.GapsBy))
	for _, n := range r.notes {
		fmt.Fprintf(w, "  %s\n", n)
	}
	if r.err != nil {
		fmt.Fprintf(w, "  stopped early:      %s\n", cliexit.Clean(r.err))
	}
	if r.ok() {
		fmt.Fprintf(w, "  verdict:            %s\n", r.verdict)
		return
	}
	fmt.Fprintf(w, "  verdict:            FAILED: %d missing, %d delivered twice\n", r.missing, r.twice)
}

// demoOctave: one Octave stream, its first socket dropped mid-flow; the
// events created while reconnecting are back-filled over REST (--gap-fill),
// so the gap closes and nothing is reported lost.
func demoOctave(ctx context.Context) *sourceResult {
	r := &sourceResult{name: "octave", what: "one stream, the socket dropped mid-flow, gap-fill over REST",
		verdict: "every event exactly once, none lost: gap-fill closed the gap"}
	srv := octavetest.NewServer(
		octavetest.WithStream("cpu", 1000),
		octavetest.WithScript(octavetest.Conn{After: demoOctaveCut, Action: octavetest.Drop}),
	)
	defer srv.Close()
	path := "/" + octavetest.DefaultCompany + "/cpu"
	streams, err := octave.NewStreams(path)
	if err != nil {
		r.err = err
		return r
	}
	client, err := firehose.New(
		octave.Source(octave.Config{
			Company: octavetest.DefaultCompany, User: octavetest.DefaultUser, Token: octavetest.DefaultToken,
			Streams: streams, Endpoint: srv.URL, REST: srv.URL, GapFill: true,
		}),
		firehose.WithBackoff(demoBackoffMin, demoBackoffMax),
		firehose.WithIdleTimeout(demoIdle*5),
	)
	if err != nil {
		r.err = err
		return r
	}
	ctx, cancel := context.WithTimeout(ctx, demoDeadline)
	defer cancel()
	start := time.Now()
	s, err := client.Open(ctx)
	if err != nil {
		r.err = err
		return r
	}
	defer s.Close()
	// Publish once the subscription is in place, paced, while the reader reads.
	published := make(chan struct{})
	go func() {
		defer close(published)
		for len(srv.Requests()) == 0 && ctx.Err() == nil {
			time.Sleep(time.Millisecond)
		}
		for i := 0; i < demoOctaveEvents && ctx.Err() == nil; i++ {
			srv.Publish(path, map[string]int{"n": i})
			time.Sleep(demoOctaveEvery)
		}
	}()
	seen := map[string]int{}
	for len(seen) < demoOctaveEvents {
		ev, err := s.Next(ctx)
		if err != nil {
			r.err = err
			break
		}
		seen[ev.ID()]++
		r.delivered++
	}
	cancel()
	<-published
	r.elapsed = time.Since(start)
	r.stats = client.Stats()
	events := srv.Events(path)
	r.published = len(events)
	for _, e := range events {
		if seen[e.ID] == 0 {
			r.missing++
		}
	}
	for _, n := range seen {
		if n > 1 {
			r.twice++
		}
	}
	r.notes = append(r.notes, fmt.Sprintf("gap-fill:           %d REST requests back-filled what the drop missed", len(srv.RESTRequests())))
	return r
}

// demoCallEvents: a call-event socket dropped; the firehose cannot replay,
// so the reconnect is reported as a typed gap (no_replay); the events the
// server re-sends to the new socket are dropped as duplicates.
func demoCallEvents(ctx context.Context) *sourceResult {
	r := &sourceResult{name: "callevents", what: "the socket dropped; a server that re-sends on connect",
		verdict: "every published event exactly once; the reconnect reported as a typed gap (no replay)"}
	srv := calleventstest.NewServer(calleventstest.WithResendOnConnect(demoCallResend))
	defer srv.Close()
	client, err := firehose.New(
		callevents.Source(callevents.Config{BaseURL: srv.URL, Username: "admin", Password: "adminpassword", Domain: "master.test"}),
		firehose.WithBackoff(demoBackoffMin, demoBackoffMax),
	)
	if err != nil {
		r.err = err
		return r
	}
	ctx, cancel := context.WithTimeout(ctx, demoDeadline)
	defer cancel()
	start := time.Now()
	s, err := client.Open(ctx)
	if err != nil {
		r.err = err
		return r
	}
	defer s.Close()
	seen := map[string]int{}
	read := func(n int) bool {
		for i := 0; i < n; i++ {
			ev, err := s.Next(ctx)
			if err != nil {
				r.err = err
				return false
			}
			seen[fmt.Sprint(ev.ID(), "@", ev.Timestamp())]++
			r.delivered++
		}
		return true
	}
	publish := func() {
		for i := 0; i < demoCallBatch; i++ {
			srv.Publish(calleventstest.CustomerAccount, calleventstest.ChannelAnswer, nil)
		}
	}
	if err := srv.WaitSockets(ctx, 1); err != nil {
		r.err = err
		return r
	}
	publish()
	if read(demoCallBatch) {
		// Reading drives the stream (Next): the second batch goes out from
		// here once the server sees the new socket.
		again := make(chan error, 1)
		go func() {
			for len(srv.Connections()) < 2 && ctx.Err() == nil {
				time.Sleep(time.Millisecond)
			}
			err := srv.WaitSockets(ctx, 1)
			if err == nil {
				publish()
			}
			again <- err
		}()
		srv.DropAll()
		read(demoCallBatch)
		cancel()
		if err := <-again; err != nil && r.err == nil {
			r.err = err
		}
	}
	r.elapsed = time.Since(start)
	r.stats = client.Stats()
	r.published = len(srv.Events())
	r.missing = r.published - len(seen)
	for _, n := range seen {
		if n > 1 {
			r.twice++
		}
	}
	if r.stats.GapsBy[firehose.GapNoReplay] == 0 && r.err == nil {
		r.err = fmt.Errorf("the reconnect was not reported as a gap")
	}
	return r
}
