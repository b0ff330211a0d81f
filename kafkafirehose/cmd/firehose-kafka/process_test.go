package main

import (
	"bytes"
	"context"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/firehose-go/firehose/firehosetest"
	"github.com/firehose-go/firehose/internal/leakcheck"
	"github.com/firehose-go/firehose/kafkafirehose"
	"github.com/firehose-go/firehose/kafkafirehose/internal/kafkatest"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

// The process tests re-execute this test binary as the command, so they run
// the real main (signals, exit codes) without a separate build. The kfake
// cluster and the mock firehose live in the test process and outlive every
// killed child.
const asCLI = "FIREHOSE_KAFKA_TEST_AS_CLI"

func TestMain(m *testing.M) {
	if os.Getenv(asCLI) == "1" {
		main()
		return
	}
	leakcheck.Main(m, "github.com/firehose-go/firehose", "github.com/twmb/franz-go")
}

type key struct {
	id string
	ts int64
}

// acked counts the records in topic (read_uncommitted: what a crash may
// have left is counted too), to know the child is making progress.
func endOffsets(t *testing.T, brokers []string, topic string) int64 {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ends, err := kadm.NewClient(cl).ListEndOffsets(ctx, topic)
	if err != nil {
		return 0
	}
	var n int64
	ends.Each(func(o kadm.ListedOffset) {
		if o.Err == nil {
			n += o.Offset
		}
	})
	return n
}

// readAll counts the records of topic by (id, timestamp); committed reads
// with read_committed.
func readAll(t *testing.T, brokers []string, topic string, committed bool) map[key]int {
	t.Helper()
	count := map[key]int{}
	for _, r := range kafkatest.ReadTopic(t, brokers, topic, committed) {
		k := key{id: string(r.Key)}
		k.ts, _ = strconv.ParseInt(kafkatest.Header(r, kafkafirehose.HeaderTimestamp), 10, 64)
		count[k]++
	}
	return count
}

func startBridge(t *testing.T, args ...string) (*exec.Cmd, *bytes.Buffer) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), asCLI+"=1")
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
	return cmd, &stderr
}

// killTest runs the bridge kills+1 times against one live mock and one kfake
// cluster, SIGKILLing it at random moments, the last run stopped with
// SIGTERM once it has caught up; it returns what a reader of the topic sees.
func killTest(t *testing.T, kills int, exactlyOnce bool) (missing, dups, records int, allowed int64) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	brokers := c.ListenAddrs()
	srv := firehosetest.NewServer(firehosetest.WithRate(500), firehosetest.WithHistory(500, time.Second))
	defer srv.Close()
	start := time.Now().Add(-time.Minute)
	args := []string{"--brokers", strings.Join(brokers, ","), "--topic", "events", "--endpoint", srv.URL,
		"--key", "test-key", "--quiet", "--from", strconv.FormatInt(start.UnixMilli(), 10)}
	if exactlyOnce {
		args = append(args, "--exactly-once")
	}
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 2))
	waitProgress := func(cmd *exec.Cmd, stderr *bytes.Buffer, beyond int64) {
		deadline := time.Now().Add(60 * time.Second)
		for endOffsets(t, brokers, "events") <= beyond {
			if time.Now().After(deadline) {
				t.Fatalf("no progress past %d records in 60 s: %s", beyond, stderr)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	for i := 0; i <= kills; i++ {
		before := endOffsets(t, brokers, "events")
		cmd, stderr := startBridge(t, args...)
		waitProgress(cmd, stderr, before+50)
		if i < kills {
			// Run to a random moment mid-stream, sampling how many records were
			// out when: a crash may repeat what was written since the last
			// checkpoint, at most one interval (1 s) plus the flush.
			type sample struct {
				at      time.Time
				records int64
			}
			var samples []sample
			for stopAt := time.Now().Add(time.Duration(200+rng.IntN(1300)) * time.Millisecond); time.Now().Before(stopAt); {
				samples = append(samples, sample{time.Now(), endOffsets(t, brokers, "events")})
				time.Sleep(20 * time.Millisecond)
			}
			cmd.Process.Signal(syscall.SIGKILL)
			killed := time.Now()
			cmd.Wait()
			early := before
			for _, sm := range samples {
				if sm.at.Before(killed.Add(-1500 * time.Millisecond)) {
					early = sm.records
				}
			}
			allowed += endOffsets(t, brokers, "events") - early
			continue
		}
		// The last run stops gracefully once it has caught up past now.
		horizon := time.Now()
		for {
			evs := srv.Log().Events(1, 12)
			if len(evs) > 0 && evs[len(evs)-1].Emit.After(horizon.Add(time.Second)) {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		time.Sleep(300 * time.Millisecond)
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
		if code := cmd.ProcessState.ExitCode(); code != 0 {
			t.Fatalf("last run exited %d after SIGTERM: %s", code, stderr)
		}
	}
	count := readAll(t, brokers, "events", exactlyOnce)
	var reached int64
	for k, n := range count {
		reached = max(reached, k.ts)
		dups += n - 1
		records += n
	}
	for _, e := range srv.Log().Events(1, 12) {
		if e.Timestamp <= reached-3000 && count[key{e.UID, e.Timestamp}] == 0 {
			missing++
		}
	}
	return missing, dups, records, allowed
}

// TestKillBridge: three SIGKILLs mid-stream lose nothing; at-least-once
// repeats at most about one checkpoint interval per kill; exactly-once
// repeats nothing to a read_committed reader.
func TestKillBridge(t *testing.T) {
	if testing.Short() {
		t.Skip("process test")
	}
	for _, eos := range []bool{false, true} {
		name := "at-least-once"
		if eos {
			name = "exactly-once"
		}
		t.Run(name, func(t *testing.T) {
			const kills = 3
			missing, dups, records, allowed := killTest(t, kills, eos)
			t.Logf("%d kills: %d records, %d missing, %d duplicates (at-least-once bound: %d, the records of the last 1.5 s before each kill)", kills, records, missing, dups, allowed)
			if missing != 0 {
				t.Fatalf("%d events missing after %d kills", missing, kills)
			}
			if eos && dups != 0 {
				t.Fatalf("%d duplicates to a read_committed reader in exactly-once mode", dups)
			}
			if !eos && int64(dups) > allowed {
				t.Fatalf("%d duplicates after %d kills: more than an interval each (%d)", dups, kills, allowed)
			}
		})
	}
}

// TestFlags: bad command lines exit 2 before any I/O.
func TestFlags(t *testing.T) {
	for _, args := range [][]string{
		{},
		{"--brokers", "x:1"},
		{"--brokers", "x:1", "--topic", "t"}, // no key
		{"--brokers", "x:1", "--topic", "t", "--key", "k", "--transport", "smoke"},
		{"--brokers", "x:1", "--topic", "t", "--key", "k", "--receiver", "3/3"},
		{"--brokers", "x:1", "--topic", "t", "--key", "k", "--transactional-id", "a"},
		{"--brokers", "x:1", "--topic", "bad topic", "--key", "k"},
		{"--brokers", "x:1", "--topic", "t", "--key", "k", "extra"},
	} {
		var stderr bytes.Buffer
		if code := run(context.Background(), args, &stderr, func(string) string { return "" }); code != exitUsage {
			t.Errorf("%q: exit %d, want %d (%s)", args, code, exitUsage, stderr.String())
		}
	}
}

// TestCountExitsZero: --count stops the bridge with exit 0 once that many
// events are acknowledged and checkpointed.
func TestCountExitsZero(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	srv := firehosetest.NewServer(firehosetest.WithHistory(1000, time.Second))
	defer srv.Close()
	var stderr bytes.Buffer
	code := run(context.Background(), []string{"--brokers", c.ListenAddrs()[0], "--topic", "t", "--exactly-once",
		"--endpoint", srv.URL, "--from", "1m", "--count", "300"}, &stderr, func(k string) string {
		if k == "FIREHOSE_API_KEY" {
			return "test-key"
		}
		return ""
	})
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if n := len(readAll(t, c.ListenAddrs(), "t", true)); n != 300 {
		t.Fatalf("%d committed records, want 300", n)
	}
	if n := len(readAll(t, c.ListenAddrs(), "t-checkpoints", true)); n != 1 {
		t.Fatalf("%d checkpoint keys, want 1", n)
	}
	if !strings.Contains(stderr.String(), "300 events") {
		t.Fatalf("no final status line: %s", stderr.String())
	}
}
