package target

import (
	"context"
	"flag"
	"strings"
	"testing"
	"time"

	"github.com/firehose-go/firehose"
	"github.com/firehose-go/firehose/firehosetest"
)

func parse(t *testing.T, args ...string) *Target {
	t.Helper()
	fs := flag.NewFlagSet("example", flag.ContinueOnError)
	tg := Flags(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	return tg
}

// TestNoKeyWithoutReal: $FIREHOSE_API_KEY reaches no server unless -real.
func TestNoKeyWithoutReal(t *testing.T) {
	t.Setenv("FIREHOSE_API_KEY", "sk-real-key-must-not-leak")
	srv := firehosetest.NewServer(firehosetest.WithHistory(5, time.Minute)) // accepts test-key only
	defer srv.Close()
	for _, args := range [][]string{nil, {"-endpoint", srv.URL}} {
		opts, mock, err := parse(t, args...).Options(firehosetest.WithHistory(5, time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		if (mock != nil) != (args == nil) {
			t.Fatalf("%q: in-process mock %v", args, mock != nil)
		}
		if mock != nil {
			defer mock.Close()
		}
		c, err := firehose.New(append(opts, firehose.WithStart(time.Now().Add(-2*time.Minute)))...)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		s, err := c.Open(ctx) // a 401 would be fatal here
		if err != nil {
			t.Fatalf("%q: %v", args, err)
		}
		s.Close()
		cancel()
		if strings.Contains(c.String(), "sk-real") {
			t.Errorf("%q: the environment's key is in the options", args)
		}
	}
	if _, _, err := parse(t, "-real").Options(); err != nil {
		t.Errorf("-real with the key set: %v", err)
	}
	t.Setenv("FIREHOSE_API_KEY", "")
	if _, _, err := parse(t, "-real").Options(); err == nil || !strings.Contains(err.Error(), "FIREHOSE_API_KEY") {
		t.Errorf("-real without a key: %v", err)
	}
}
