package pgfirehose_test

import (
	"context"
	"fmt"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/firehose-go/firehose/internal/leakcheck"
)

// TestMain fails the run if a goroutine these tests started outlives them.
func TestMain(m *testing.M) {
	leakcheck.Main(m, "github.com/firehose-go/firehose", "github.com/jackc/", "net/http.(*persistConn)", "net/http.(*conn).serve")
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
