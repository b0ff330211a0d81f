package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/firehose-go/firehose"
	"github.com/firehose-go/firehose/firehosetest"
)

// demoRestart shows the checkpoint at work: a consumer stops gracefully
// part-way, a new one resumes from the checkpoint file on the same server,
// and not one event repeats or goes missing.
func demoRestart(ctx context.Context, w io.Writer) bool {
	dir, err := os.MkdirTemp("", "firehose-demo-")
	if err != nil {
		fmt.Fprintf(w, "\nrestart: skipped: %v\n", err)
		return true
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "demo.ckpt")
	srv := firehosetest.NewServer(firehosetest.WithHistory(demoHistory, demoSpan),
		firehosetest.WithScript(firehosetest.Conn{After: 700, Duplicates: demoDupBurst, Action: firehosetest.CutMidLine}))
	defer srv.Close()
	want := srv.Log().Events(1, 12)
	seen := map[eventKey]int{}
	runs := []int{}
	for _, stopAt := range []int{1000, 900, len(want)} {
		c, err := firehose.New(firehose.WithEndpoint(srv.URL), firehose.WithAPIKey(firehosetest.DefaultAPIKey),
			firehose.WithCheckpointer(firehose.NewFileCheckpointer(path)),
			firehose.WithStart(want[0].Emit.Add(-time.Minute)), // only while there is no checkpoint
			firehose.WithBackoff(demoBackoffMin, demoBackoffMax))
		if err != nil {
			fmt.Fprintf(w, "\nrestart: %v\n", err)
			return false
		}
		rctx, cancel := context.WithTimeout(ctx, demoDeadline)
		n := 0
		err = c.Run(rctx, func(ctx context.Context, ev *firehose.Event) error {
			seen[eventKey{ev.ID(), ev.Timestamp()}]++
			if n++; n == stopAt || len(seen) == len(want) {
				cancel() // a graceful stop: the checkpoint is saved on the way out
			}
			return nil
		})
		cancel()
		if err != nil && rctx.Err() == nil {
			fmt.Fprintf(w, "\nrestart: %v\n", err)
			return false
		}
		runs = append(runs, n)
		if len(seen) == len(want) {
			break
		}
	}
	repeated, missing := 0, 0
	for _, n := range seen {
		repeated += n - 1
	}
	for _, e := range want {
		if seen[eventKey{e.UID, e.Timestamp}] == 0 {
			missing++
		}
	}
	fmt.Fprintf(w, "\nrestart (http, checkpoint file): %d runs delivered %v events, stopping gracefully between runs\n", len(runs), runs)
	verdict := "nothing repeated, nothing lost across the restarts"
	ok := repeated == 0 && missing == 0
	if !ok {
		verdict = fmt.Sprintf("FAILED: %d repeated, %d missing", repeated, missing)
	}
	fmt.Fprintf(w, "  verdict:            %s (%d log events)\n", verdict, len(want))
	return ok
}
