package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/firehose-go/firehose"
	"github.com/firehose-go/firehose/firehosetest"
)

// TestBorrowedMisuseIsCaught keeps the bytes of a borrowed event past its
// callback — the misuse BorrowedEvent forbids — and shows that under go test
// they are poisoned by the next callback, so such a handler fails its tests
// loudly instead of corrupting data in production. An Owned copy survives.
func TestBorrowedMisuseIsCaught(t *testing.T) {
	srv := firehosetest.NewServer(firehosetest.WithHistory(50, time.Minute))
	defer srv.Close()
	c, err := firehose.New(
		firehose.WithEndpoint(srv.URL),
		firehose.WithAPIKey(firehosetest.DefaultAPIKey),
		firehose.WithStart(time.Now().Add(-2*time.Minute)),
	)
	if err != nil {
		t.Fatal(err)
	}
	var (
		keptJSON, keptID, keptPayload []byte // the misuse: views kept past the callback
		orig                          []byte
		owned                         *firehose.Event
		calls                         int
	)
	stop := errors.New("stop")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err = c.RunBorrowed(ctx, func(_ context.Context, ev *firehose.BorrowedEvent) error {
		calls++
		if calls == 1 {
			if !json.Valid(ev.JSON()) {
				t.Errorf("inside its callback the event is not valid JSON: %q", ev.JSON())
			}
			keptJSON, keptID, keptPayload = ev.JSON(), ev.ID(), ev.Payload()
			orig = bytes.Clone(ev.JSON())
			owned = ev.Owned()
			return nil
		}
		return stop
	})
	if !errors.Is(err, stop) {
		t.Fatalf("RunBorrowed: %v after %d calls", err, calls)
	}
	for name, b := range map[string][]byte{"JSON": keptJSON, "ID": keptID, "Payload": keptPayload} {
		if len(b) == 0 {
			t.Errorf("%s: empty view", name)
			continue
		}
		if !poisoned(b) {
			t.Errorf("%s kept past its callback was not poisoned: %q", name, b[:min(len(b), 80)])
		}
	}
	if json.Valid(keptJSON) {
		t.Error("a kept borrowed view still reads as valid JSON")
	}
	if !bytes.Equal(owned.JSON(), orig) {
		t.Errorf("Owned() copy changed after the callback: %q", owned.JSON())
	}
}

// poisoned reports whether b is one byte repeated, not the bytes received.
func poisoned(b []byte) bool {
	for _, c := range b {
		if c != b[0] {
			return false
		}
	}
	return b[0] != '{' && b[0] != '"'
}
