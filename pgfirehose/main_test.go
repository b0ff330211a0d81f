package pgfirehose_test

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// TestMain fails the run if a goroutine of this module, of pgx or of a
// connection of net/http outlives the tests: every sink, stream and server
// must be stopped by its own handle.
func TestMain(m *testing.M) {
	code := m.Run()
	if code == 0 {
		if leaked := waitForLeaks(5 * time.Second); leaked != "" {
			os.Stderr.WriteString("goroutines leaked after the tests:\n" + leaked + "\n")
			code = 1
		}
	}
	os.Exit(code)
}

func waitForLeaks(limit time.Duration) string {
	deadline := time.Now().Add(limit)
	for {
		leaked := leakedGoroutines()
		if leaked == "" || time.Now().After(deadline) {
			return leaked
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func leakedGoroutines() string {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	var out []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "leakedGoroutines") || strings.Contains(g, "testing.(*M)") ||
			strings.Contains(g, "signal.signal_recv") {
			continue
		}
		if strings.Contains(g, "github.com/firehose-go/firehose") ||
			strings.Contains(g, "github.com/jackc/") ||
			strings.Contains(g, "net/http.(*persistConn)") ||
			strings.Contains(g, "net/http.(*conn).serve") {
			out = append(out, g)
		}
	}
	return strings.Join(out, "\n\n")
}

// needPostgres skips the test when PGHOST is unset (start one with
// .ci/postgres.sh), and fails it instead under FIREHOSE_REQUIRE_POSTGRES=1.
func needPostgres(t testing.TB) {
	t.Helper()
	if os.Getenv("PGHOST") != "" {
		return
	}
	if os.Getenv("FIREHOSE_REQUIRE_POSTGRES") == "1" {
		t.Fatal("PGHOST is unset and FIREHOSE_REQUIRE_POSTGRES=1: start one with eval \"$(.ci/postgres.sh)\"")
	}
	t.Skip("PGHOST is unset: eval \"$(.ci/postgres.sh)\" to run against a real PostgreSQL")
}

var tableSeq atomic.Int64

// tables returns a checkpoint and an event table of the test's own, dropped
// when it ends.
func tables(t testing.TB) (ckpt, events string) {
	t.Helper()
	needPostgres(t)
	n := fmt.Sprintf("t%d_%d", os.Getpid(), tableSeq.Add(1))
	ckpt, events = n+"_ckpt", n+"_events"
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		db := connect(t, ctx)
		defer db.Close(ctx)
		db.Exec(ctx, "DROP TABLE IF EXISTS "+ckpt+", "+events)
	})
	return ckpt, events
}

// connect opens a connection of the test's own (PG* variables).
func connect(t testing.TB, ctx context.Context) *pgx.Conn {
	t.Helper()
	db, err := pgx.Connect(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	return db
}
