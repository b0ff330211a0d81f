package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/firehose-go/firehose/firehosetest"
	"github.com/firehose-go/firehose/internal/leakcheck"
)

// The process tests re-execute this test binary as the CLI, so they run the
// real main (signals, exit codes, stdout) without a separate build.
const asCLI = "FIREHOSE_TEST_AS_CLI"

func TestMain(m *testing.M) {
	if os.Getenv(asCLI) == "1" {
		main()
		return
	}
	leakcheck.Main(m, "github.com/firehose-go/firehose", "net/http.(*persistConn)", "net/http.(*conn).serve", "google.golang.org/grpc", "gorilla/websocket")
}

type lineKey struct {
	id string
	ts int64
}

// readEvents parses one run's stdout; a torn last line (a SIGKILL during a
// write) is skipped: it was never fully delivered.
func readEvents(t *testing.T, path string) []lineKey {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []lineKey
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		var e struct {
			RecordUID       string `json:"recordUid"`
			RecordTimestamp int64  `json:"recordTimestamp"`
			EventType       string `json:"eventType"`
		}
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			continue
		}
		if e.EventType == "KEEP_ALIVE" {
			t.Fatalf("keep-alive printed: %s", sc.Bytes())
		}
		out = append(out, lineKey{e.RecordUID, e.RecordTimestamp})
	}
	return out
}

// startTail starts `firehose tail` as a child process writing to out.
func startTail(t *testing.T, srv *firehosetest.Server, ckpt, out string, from time.Time) *exec.Cmd {
	t.Helper()
	f, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cmd := exec.Command(os.Args[0], "tail", "--endpoint", srv.URL, "--key", "test-key", "--quiet",
		"--checkpoint", ckpt, "--from", strconv.FormatInt(from.UnixMilli(), 10))
	cmd.Env = append(os.Environ(), asCLI+"=1")
	cmd.Stdout = f
	var stderr bytes.Buffer
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
	return cmd
}

// waitLines waits until the child has printed at least n lines to out.
func waitLines(t *testing.T, out string, n int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		b, _ := os.ReadFile(out)
		if bytes.Count(b, []byte{'\n'}) >= n {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("%s: fewer than %d lines after 30 s", out, n)
}

// restartTest runs tail several times against one live mock, stopping each
// run with sig at a random moment, then checks the union of the outputs.
func restartTest(t *testing.T, sig syscall.Signal, runs int) (missing, dups, allowed int, perRunLines []int) {
	const rate = 1000
	srv := firehosetest.NewServer(firehosetest.WithRate(rate), firehosetest.WithHistory(500, time.Second))
	defer srv.Close()
	start := time.Now().Add(-time.Minute)
	dir := t.TempDir()
	ckpt := filepath.Join(dir, "tail.ckpt")
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	count := map[lineKey]int{}
	for i := 0; i <= runs; i++ {
		out := filepath.Join(dir, "out"+strconv.Itoa(i))
		killBefore := -1 // lines out 1.5 s before a kill
		cmd := startTail(t, srv, ckpt, out, start)
		waitLines(t, out, 50)
		if i == runs {
			// The last run stops gracefully once it has caught up past now.
			horizon := time.Now()
			for {
				evs := srv.Log().Events(1, 12)
				if len(evs) > 0 && evs[len(evs)-1].Emit.After(horizon.Add(time.Second)) {
					break
				}
				time.Sleep(50 * time.Millisecond)
			}
			waitLines(t, out, 1) // still alive
			time.Sleep(300 * time.Millisecond)
			cmd.Process.Signal(syscall.SIGTERM)
		} else {
			// Run to a random moment, sampling how many lines were out when.
			type sample struct {
				at    time.Time
				lines int
			}
			var samples []sample
			for stopAt := time.Now().Add(time.Duration(200+rng.IntN(1300)) * time.Millisecond); time.Now().Before(stopAt); {
				b, _ := os.ReadFile(out)
				samples = append(samples, sample{time.Now(), bytes.Count(b, []byte{'\n'})})
				time.Sleep(20 * time.Millisecond)
			}
			cmd.Process.Signal(sig)
			killed := time.Now()
			// A crash may repeat what was printed since the last checkpoint: at
			// most one interval (1 s) plus the 100 ms flush and sampling slack.
			before := 0
			for _, sm := range samples {
				if sm.at.Before(killed.Add(-1500 * time.Millisecond)) {
					before = sm.lines
				}
			}
			killBefore = before
		}
		cmd.Wait()
		if sig == syscall.SIGTERM || i == runs {
			if code := cmd.ProcessState.ExitCode(); code != 0 {
				t.Fatalf("run %d exited %d after SIGTERM", i, code)
			}
		}
		evs := readEvents(t, out)
		if killBefore >= 0 && sig == syscall.SIGKILL {
			allowed += len(evs) - killBefore
		}
		perRunLines = append(perRunLines, len(evs))
		for _, k := range evs {
			count[k]++
		}
	}
	// Every event up to what the last run had reached (less the stream's 2 s
	// disorder) must be there: the end of the last run is not a restart.
	var reached int64
	for k := range count {
		reached = max(reached, k.ts)
	}
	for _, e := range srv.Log().Events(1, 12) {
		if e.Timestamp <= reached-3000 && count[lineKey{e.UID, e.Timestamp}] == 0 {
			missing++
			if missing <= 5 {
				t.Logf("missing %s @%d (reached %d)", e.UID, e.Timestamp, reached)
			}
		}
	}
	for _, n := range count {
		dups += n - 1
	}
	return missing, dups, allowed, perRunLines
}

// TestKillRestartLosesNothing: SIGKILL at random moments; the union of the
// outputs holds every event, and duplicates stay within about one checkpoint
// interval's worth of events per kill.
func TestKillRestartLosesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("process test")
	}
	const kills = 4
	missing, dups, allowed, lines := restartTest(t, syscall.SIGKILL, kills)
	t.Logf("lines per run %v, duplicates %d, bound %d", lines, dups, allowed)
	if missing != 0 {
		t.Fatalf("%d events lost across %d kills", missing, kills)
	}
	// Per kill, at most what that run printed in its last checkpoint
	// interval (plus flush and sampling slack). While a run catches up, that
	// can be far more than the live rate.
	if dups > allowed+50 { // 50: sampling granularity
		t.Fatalf("%d duplicates across %d kills, want at most %d (what the runs printed in their last 1.5 s)", dups, kills, allowed)
	}
}

// TestTermRestartIsExactlyOnce: SIGTERM at random moments: nothing lost,
// nothing repeated.
func TestTermRestartIsExactlyOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("process test")
	}
	missing, dups, _, lines := restartTest(t, syscall.SIGTERM, 3)
	t.Logf("lines per run %v", lines)
	if missing != 0 || dups != 0 {
		t.Fatalf("%d lost, %d repeated across graceful restarts", missing, dups)
	}
}
