package main

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/firehose-go/firehose/firehosetest"
	"github.com/firehose-go/firehose/internal/leakcheck"
	"github.com/jackc/pgx/v5"
)

// The process tests re-execute this test binary as the command, so they run
// the real main (signals, exit codes) without a separate build.
const asCLI = "FIREHOSE_PG_TEST_AS_CLI"

func TestMain(m *testing.M) {
	if os.Getenv(asCLI) == "1" {
		main()
		return
	}
	leakcheck.Main(m, "github.com/firehose-go/firehose", "github.com/jackc/", "net/http.(*conn).serve", "os/exec")
}

func needPostgres(t *testing.T) {
	t.Helper()
	if os.Getenv("PGHOST") != "" {
		return
	}
	if os.Getenv("FIREHOSE_REQUIRE_POSTGRES") == "1" {
		t.Fatal("PGHOST is unset and FIREHOSE_REQUIRE_POSTGRES=1: start one with eval \"$(.ci/postgres.sh)\"")
	}
	t.Skip("PGHOST is unset: eval \"$(.ci/postgres.sh)\" to run against a real PostgreSQL")
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestKillMidBatchIsExactlyOnce runs firehose-pg against a live mock, kills
// it with SIGKILL at random moments (a batch half-buffered, sometimes a
// commit in flight) three times, then stops a fourth run with SIGTERM once
// it has caught up: the table must hold every event of the mock's log once.
func TestKillMidBatchIsExactlyOnce(t *testing.T) {
	needPostgres(t)
	if testing.Short() {
		t.Skip("process test")
	}
	const kills = 3
	ctx := context.Background()
	db, err := pgx.Connect(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close(context.Background()) }) // after the drop below
	prefix := fmt.Sprintf("p%d_%d", os.Getpid(), time.Now().UnixNano()%1e9)
	events, ckpt := prefix+"_events", prefix+"_ckpt"
	t.Cleanup(func() { db.Exec(context.Background(), "DROP TABLE IF EXISTS "+events+", "+ckpt) })

	srv := firehosetest.NewServer(firehosetest.WithRate(1000), firehosetest.WithHistory(500, time.Second))
	defer srv.Close()
	start := time.Now().Add(-time.Minute)
	rowsNow := func() (n, maxTS int64) {
		err := db.QueryRow(ctx, "SELECT count(*), coalesce(max(ts), 0) FROM "+events).Scan(&n, &maxTS)
		if err != nil && !strings.Contains(err.Error(), "does not exist") {
			t.Fatal(err)
		}
		return n, maxTS
	}
	// waitFor polls the table until ok, for at most 30 s.
	waitFor := func(what string, ok func(n, maxTS int64) bool) {
		t.Helper()
		for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			if ok(rowsNow()) {
				return
			}
		}
		t.Fatalf("waiting for %s: timed out after 30 s", what)
	}
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 2))
	var lastStatus string
	for i := 0; i <= kills; i++ {
		cmd := exec.Command(os.Args[0], "--endpoint", srv.URL, "--key", firehosetest.DefaultAPIKey,
			"--table", events, "--checkpoint-table", ckpt, "--checkpoint-name", "kill-test",
			"--from", strconv.FormatInt(start.UnixMilli(), 10))
		cmd.Env = append(os.Environ(), asCLI+"=1")
		var stderr syncBuffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			if cmd.ProcessState == nil {
				cmd.Process.Kill()
				cmd.Wait()
			}
		})
		before, _ := rowsNow()
		waitFor("a first commit", func(n, _ int64) bool { return n > before })
		if i < kills {
			// Mid-batch: a random moment within the next 1.5 batch waits.
			time.Sleep(time.Duration(100+rng.IntN(1400)) * time.Millisecond)
			cmd.Process.Signal(syscall.SIGKILL)
			cmd.Wait()
			n, _ := rowsNow()
			t.Logf("run %d: killed with %d rows in the table", i, n)
			continue
		}
		// The last run: stop gracefully once the table is past now + 1 s.
		horizon := time.Now().Add(time.Second).UnixMilli()
		waitFor("the last run to catch up", func(_, maxTS int64) bool { return maxTS > horizon })
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
		if code := cmd.ProcessState.ExitCode(); code != 0 {
			t.Fatalf("last run exited %d after SIGTERM:\n%s", code, stderr.String())
		}
		lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
		lastStatus = lines[len(lines)-1]
	}
	t.Logf("last run: %s", lastStatus)

	// Compare with the log: every event up to what the table reached, less
	// the stream's 2 s disorder, exactly once; nothing that is not in it.
	type key struct {
		id string
		ts int64
	}
	got := map[key]int{}
	rows, err := db.Query(ctx, "SELECT id, ts FROM "+events)
	if err != nil {
		t.Fatal(err)
	}
	var reached int64
	for rows.Next() {
		var k key
		if err := rows.Scan(&k.id, &k.ts); err != nil {
			t.Fatal(err)
		}
		got[k]++
		reached = max(reached, k.ts)
	}
	if rows.Err() != nil {
		t.Fatal(rows.Err())
	}
	var missing, dups, foreign, checked int
	inLog := map[key]bool{}
	for _, e := range srv.Log().Events(1, 12) {
		k := key{e.UID, e.Timestamp}
		inLog[k] = true
		if e.Timestamp > reached-3000 {
			continue
		}
		checked++
		switch got[k] {
		case 0:
			missing++
			if missing <= 5 {
				t.Logf("missing %s @%d", e.UID, e.Timestamp)
			}
		case 1:
		default:
			dups++
		}
	}
	for k, n := range got {
		if !inLog[k] {
			foreign++
		}
		if n > 1 {
			dups++
		}
	}
	var rowCount, distinct int64
	if err := db.QueryRow(ctx, "SELECT count(*), count(DISTINCT (id, ts)) FROM "+events).Scan(&rowCount, &distinct); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d kills: %d rows (%d distinct (id,ts)), %d events of the log checked: %d missing, %d duplicates, %d not in the log",
		kills, rowCount, distinct, checked, missing, dups, foreign)
	if missing != 0 || dups != 0 || foreign != 0 || rowCount != distinct {
		t.Fatalf("not exactly once: %d missing, %d duplicates, %d foreign, %d rows vs %d distinct", missing, dups, foreign, rowCount, distinct)
	}
}
