package kafkafirehose_test

import (
	"context"
	"errors"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/firehose-go/firehose"
	"github.com/firehose-go/firehose/firehosetest"
	"github.com/firehose-go/firehose/kafkafirehose"
	"github.com/firehose-go/firehose/kafkafirehose/internal/kafkatest"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func newCluster(t testing.TB) *kfake.Cluster {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

type key struct {
	id string
	ts int64
}

type record struct {
	key     key
	typ     string
	value   string
	rawKey  string
	headers int
}

// readTopic reads every record of topic up to its current end; committed
// reads with read_committed.
func readTopic(t testing.TB, brokers []string, topic string, committed bool) []record {
	t.Helper()
	var out []record
	for _, r := range kafkatest.ReadTopic(t, brokers, topic, committed) {
		rec := record{value: string(r.Value), rawKey: string(r.Key), headers: len(r.Headers),
			typ: kafkatest.Header(r, kafkafirehose.HeaderType)}
		rec.key.id = rec.rawKey
		rec.key.ts, _ = strconv.ParseInt(kafkatest.Header(r, kafkafirehose.HeaderTimestamp), 10, 64)
		out = append(out, rec)
	}
	return out
}

// runUntil runs b until it has forwarded at least n events (then cancels it
// and returns Run's error), or Run ends by itself.
func runUntil(t testing.TB, b *kafkafirehose.Bridge, n int64, opts ...firehose.Option) error {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- b.Run(ctx, opts...) }()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(60 * time.Second)
	for {
		select {
		case err := <-done:
			return err
		case <-tick.C:
			if b.Stats().Acked >= n {
				cancel()
				return <-done
			}
		case <-deadline:
			cancel()
			<-done
			t.Fatalf("fewer than %d events acknowledged after 60 s: %+v", n, b.Stats())
		}
	}
}

func sourceOpts(srv *firehosetest.Server, from time.Time) []firehose.Option {
	return []firehose.Option{
		firehose.WithEndpoint(srv.URL), firehose.WithAPIKey("k"),
		firehose.WithStartMillis(from.UnixMilli()),
		firehose.WithCheckpointInterval(50 * time.Millisecond),
	}
}

// check compares what reached topic with what the server sent: every event
// up to the newest forwarded one (less the stream's disorder) must be there.
func check(t *testing.T, srv *firehosetest.Server, recs []record) (missing, dups int) {
	t.Helper()
	count := map[key]int{}
	var reached int64
	for _, r := range recs {
		count[r.key]++
		reached = max(reached, r.key.ts)
	}
	for _, e := range srv.Log().Events(1, 12) {
		if e.Timestamp <= reached-3000 && count[key{e.UID, e.Timestamp}] == 0 {
			missing++
		}
	}
	for _, n := range count {
		dups += n - 1
	}
	return missing, dups
}

var modes = []struct {
	name string
	opts []kafkafirehose.Option
}{
	{"at-least-once", nil},
	{"exactly-once", []kafkafirehose.Option{kafkafirehose.WithExactlyOnce()}},
}

// TestForwardAndResume: records carry the event as received, keyed by id,
// with type and timestamp headers; a graceful stop and restart repeats
// nothing and loses nothing, in both modes, whether the topics exist or not.
func TestForwardAndResume(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			c := newCluster(t)
			brokers := c.ListenAddrs()
			srv := firehosetest.NewServer(firehosetest.WithAPIKey("k"), firehosetest.WithRate(500), firehosetest.WithHistory(1500, 30*time.Second))
			defer srv.Close()
			from := time.Now().Add(-time.Minute)
			for run := range 2 {
				b, err := kafkafirehose.New(brokers, "events", m.opts...)
				if err != nil {
					t.Fatal(err)
				}
				if err := runUntil(t, b, 700, sourceOpts(srv, from)...); !errors.Is(err, context.Canceled) {
					t.Fatalf("run %d: %v", run, err)
				}
				if st := b.Stats(); st.Commits == 0 || st.Acked != st.Produced {
					t.Fatalf("run %d: %+v", run, st)
				}
			}
			recs := readTopic(t, brokers, "events", true)
			lines := map[key]string{}
			for _, e := range srv.Log().Events(1, 12) {
				lines[key{e.UID, e.Timestamp}] = string(e.Line)
			}
			for _, r := range recs[:10] {
				if r.headers != 2 || r.typ == "" || lines[r.key] == "" {
					t.Fatalf("record %+v", r)
				}
				if want := lines[r.key]; r.value != want {
					t.Fatalf("value %q, want the line as sent %q", r.value, want)
				}
			}
			missing, dups := check(t, srv, recs)
			t.Logf("%d records, %d missing, %d duplicates", len(recs), missing, dups)
			if missing != 0 || dups != 0 {
				t.Fatalf("%d missing, %d duplicates across a graceful restart", missing, dups)
			}
		})
	}
}

// faultProduce makes every produce request fail with code while on is set.
func faultProduce(c *kfake.Cluster, on *atomic.Bool, code int16) {
	c.ControlKey(int16(kmsg.Produce), func(req kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		if !on.Load() {
			return nil, nil, false
		}
		pr := req.(*kmsg.ProduceRequest)
		resp := pr.ResponseKind().(*kmsg.ProduceResponse)
		for _, tp := range pr.Topics {
			rt := kmsg.NewProduceResponseTopic()
			rt.Topic, rt.TopicID = tp.Topic, tp.TopicID
			for _, p := range tp.Partitions {
				rp := kmsg.NewProduceResponseTopicPartition()
				rp.Partition = p.Partition
				rp.ErrorCode = code
				rt.Partitions = append(rt.Partitions, rp)
			}
			resp.Topics = append(resp.Topics, rt)
		}
		return resp, nil, true
	})
}

// TestProduceFaultNeverAdvancesCheckpoint: once Kafka refuses a record the
// bridge stops with the error, the checkpoint stays behind it, and the next
// run brings every event.
func TestProduceFaultNeverAdvancesCheckpoint(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			c := newCluster(t)
			brokers := c.ListenAddrs()
			srv := firehosetest.NewServer(firehosetest.WithAPIKey("k"), firehosetest.WithRate(500), firehosetest.WithHistory(1500, 30*time.Second))
			defer srv.Close()
			from := time.Now().Add(-time.Minute)
			var on atomic.Bool
			faultProduce(c, &on, kerr.InvalidRecord.Code)

			b, _ := kafkafirehose.New(brokers, "events", m.opts...)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			done := make(chan error, 1)
			go func() { done <- b.Run(ctx, sourceOpts(srv, from)...) }()
			for b.Stats().Commits < 3 {
				select {
				case err := <-done:
					t.Fatalf("ended early: %v", err)
				case <-time.After(5 * time.Millisecond):
				}
			}
			on.Store(true)
			var err error
			select {
			case err = <-done:
			case <-time.After(60 * time.Second):
				t.Fatal("a refused record did not stop the bridge")
			}
			on.Store(false)
			if !errors.Is(err, kafkafirehose.ErrFailed) || !errors.Is(err, kerr.InvalidRecord) {
				t.Fatalf("Run = %v, want the produce failure", err)
			}
			st := b.Stats()
			t.Logf("stopped after %d produced, %d acked, %d checkpoints: %v", st.Produced, st.Acked, st.Commits, err)

			b2, _ := kafkafirehose.New(brokers, "events", m.opts...)
			if err := runUntil(t, b2, 1500, sourceOpts(srv, from)...); !errors.Is(err, context.Canceled) {
				t.Fatal(err)
			}
			missing, dups := check(t, srv, readTopic(t, brokers, "events", true))
			t.Logf("after restart: %d missing, %d duplicates", missing, dups)
			if missing != 0 {
				t.Fatalf("%d events lost: a checkpoint moved past a refused record", missing)
			}
			if m.name == "exactly-once" && dups != 0 {
				t.Fatalf("%d duplicates to a read_committed reader", dups)
			}
		})
	}
}

// TestRidesOutNotEnoughReplicas: seconds of NOT_ENOUGH_REPLICAS slow the
// bridge down but do not stop it, and nothing is lost.
func TestRidesOutNotEnoughReplicas(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			c := newCluster(t)
			brokers := c.ListenAddrs()
			srv := firehosetest.NewServer(firehosetest.WithAPIKey("k"), firehosetest.WithRate(500), firehosetest.WithHistory(1500, 30*time.Second))
			defer srv.Close()
			var on atomic.Bool
			faultProduce(c, &on, kerr.NotEnoughReplicas.Code)
			b, _ := kafkafirehose.New(brokers, "events", m.opts...)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			done := make(chan error, 1)
			go func() { done <- b.Run(ctx, sourceOpts(srv, time.Now().Add(-time.Minute))...) }()
			wait := func(cond func(kafkafirehose.Stats) bool) {
				t.Helper()
				deadline := time.Now().Add(60 * time.Second)
				for !cond(b.Stats()) {
					select {
					case err := <-done:
						t.Fatalf("bridge stopped: %v", err)
					case <-time.After(5 * time.Millisecond):
					}
					if time.Now().After(deadline) {
						t.Fatalf("stuck: %+v", b.Stats())
					}
				}
			}
			wait(func(s kafkafirehose.Stats) bool { return s.Commits >= 2 })
			on.Store(true)
			stalled := b.Stats().Acked
			timer := time.NewTimer(2 * time.Second) // the outage the bridge must ride out
			select {
			case err := <-done:
				t.Fatalf("bridge stopped during the outage: %v", err)
			case <-timer.C:
			}
			on.Store(false)
			wait(func(s kafkafirehose.Stats) bool { return s.Acked >= stalled+500 && s.Acked == s.Produced })
			cancel()
			if err := <-done; !errors.Is(err, context.Canceled) {
				t.Fatal(err)
			}
			missing, dups := check(t, srv, readTopic(t, brokers, "events", true))
			t.Logf("%+v; %d missing, %d duplicates", b.Stats(), missing, dups)
			if missing != 0 || dups != 0 {
				t.Fatalf("%d missing, %d duplicates", missing, dups)
			}
		})
	}
}
