package cliexit

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/firehose-go/firehose"
)

func TestEnd(t *testing.T) {
	done, cancel := context.WithCancel(context.Background())
	cancel()
	live := context.Background()
	refused := errors.New("dial tcp 127.0.0.1:1: connect: connection refused")
	notConnected := &firehose.ConnectError{Attempts: 4, Last: refused, Err: context.Canceled}
	for _, c := range []struct {
		name     string
		ctx      context.Context
		err      error
		connects int64
		code     int
		msg      string // a part of the message ("" for none)
	}{
		{"clean end", live, nil, 1, OK, ""},
		{"stopped by us while connected", done, context.Canceled, 1, OK, ""},
		{"stopped by us after a reconnect failed", done, notConnected, 3, OK, ""},
		{"stopped before ever connecting", done, notConnected, 0, NeverConnected, "never connected: not connected after 4 failed attempts"},
		{"retry limit before ever connecting", live, &firehose.ConnectError{Attempts: 2, Last: refused, Err: firehose.ErrRetryLimit}, 0, NeverConnected, "retry limit reached"},
		{"retry limit after connecting", live, &firehose.ConnectError{Attempts: 2, Last: refused, Err: firehose.ErrRetryLimit}, 1, Fatal, "retry limit reached"},
		{"fatal", live, fmt.Errorf("firehose: %w", firehose.Fatal(errors.New("http 401: bad key"))), 0, Fatal, "http 401"},
		{"ctx error while ctx is live is not ours", live, context.Canceled, 1, Fatal, "canceled"},
	} {
		code, msg := End(c.ctx, c.err, c.connects)
		if code != c.code || (c.msg == "") != (msg == "") || !strings.Contains(msg, c.msg) {
			t.Errorf("%s: End = %d %q, want %d with %q", c.name, code, msg, c.code, c.msg)
		}
		if strings.Contains(msg, "firehose: ") {
			t.Errorf("%s: doubled prefix in %q", c.name, msg)
		}
	}
}

func TestCleanDropsRepeatedPrefixes(t *testing.T) {
	err := fmt.Errorf("firehose: not connected (%w); last error: %w", errors.New("firehose: retry limit reached"), errors.New("firehose: http: dial"))
	if got, want := Clean(err), "not connected (retry limit reached); last error: http: dial"; got != want {
		t.Fatalf("Clean = %q, want %q", got, want)
	}
}

func TestCleanIsOneSafeLine(t *testing.T) {
	err := fmt.Errorf("firehose: connect: %w", errors.New("firehose: server said \x1b[31mred\x1b[0m\nand more"))
	if got, want := Clean(err), "connect: server said red and more"; got != want {
		t.Fatalf("Clean = %q, want %q", got, want)
	}
}
