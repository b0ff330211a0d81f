package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// TestNeverConnectedExitsThree: a firehose that refuses every connection,
// --retry-limit 2: exit 3 with the reason, not a clean 0 or a bare 1.
func TestNeverConnectedExitsThree(t *testing.T) {
	needPostgres(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l.Addr().String()
	l.Close()
	prefix := fmt.Sprintf("nc%d_%d", os.Getpid(), time.Now().UnixNano()%1e9)
	t.Cleanup(func() {
		db, err := pgx.Connect(context.Background(), "")
		if err == nil {
			db.Exec(context.Background(), "DROP TABLE IF EXISTS "+prefix+"_events, "+prefix+"_ckpt")
			db.Close(context.Background())
		}
	})
	var stderr bytes.Buffer
	code := run(t.Context(), []string{"--endpoint", "http://" + closed, "--key", "k3y-never-shown", "--retry-limit", "2", "--quiet",
		"--table", prefix + "_events", "--checkpoint-table", prefix + "_ckpt"}, &stderr, os.Getenv)
	if code != 3 || !strings.Contains(stderr.String(), "firehose-pg: never connected") || !strings.Contains(stderr.String(), "connection refused") {
		t.Fatalf("exit %d, want 3, stderr:\n%s", code, stderr.String())
	}
	if strings.Contains(stderr.String(), "k3y-never-shown") {
		t.Fatalf("the key in stderr:\n%s", stderr.String())
	}
}
