package main

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/firehose-go/firehose"
	"github.com/firehose-go/firehose/firehosetest"
)

// diskFull is a checkpoint store whose every save fails, as on a full disk.
type diskFull struct{}

func (diskFull) Load(context.Context) (*firehose.Checkpoint, error) { return nil, nil }
func (diskFull) Save(context.Context, *firehose.Checkpoint) error {
	return errors.New("write checkpoint: no space left on device")
}

// TestFailedFinalSaveIsNotSwallowed: however tail's run ends — --count or
// --duration — a checkpoint that could not be saved reaches the exit path as
// an error, never as a clean end.
func TestFailedFinalSaveIsNotSwallowed(t *testing.T) {
	srv := firehosetest.NewServer(firehosetest.WithAPIKey(testKey), firehosetest.WithHistory(50, time.Minute))
	defer srv.Close()
	for name, c := range map[string]*tailConfig{
		"count":    {count: 10},
		"duration": {},
	} {
		t.Run(name, func(t *testing.T) {
			client, err := firehose.New(firehose.WithEndpoint(srv.URL), firehose.WithAPIKey(testKey),
				firehose.WithStartMillis(srv.Log().Events(1, 12)[0].Timestamp), firehose.WithCheckpointer(diskFull{}))
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(t.Context(), 500*time.Millisecond)
			defer cancel()
			e := &env{stdout: io.Discard, stderr: io.Discard, getenv: func(string) string { return "" }}
			out := newOutput(io.Discard, func(error) {})
			err = e.pump(ctx, client, out, c)
			out.close()
			if err == nil || !strings.Contains(err.Error(), "no space left") {
				t.Fatalf("pump returned %v: the failed save is lost", err)
			}
		})
	}
}
