package promfirehose

import (
	"bytes"
	"context"
	"flag"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/firehose-go/firehose"
	"github.com/firehose-go/firehose/firehosetest"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
)

var update = flag.Bool("update", false, "rewrite testdata/metrics.prom from the fixed stats")

const golden = "testdata/metrics.prom"

// fixedStats is a deterministic pair of receivers.
func fixedStats() []firehose.Stats {
	return []firehose.Stats{{
		Range: firehose.Range{Min: 1, Max: 6}, Source: "http",
		Events: 10, EventsByType: map[firehose.EventType]int64{firehose.DeviceEntry: 7, firehose.TypeOther: 3},
		Bytes: 4096, KeepAlives: 2, Duplicates: 3, Malformed: 1, Torn: 1, Unknown: 3,
		Connects: 3, Failures: 1, Reconnects: map[firehose.Cause]int64{firehose.CauseEOF: 1, firehose.CauseIdle: 1},
		Gaps: 1, GapsBy: map[firehose.GapReason]int64{firehose.GapClamped: 1}, Connected: 1,
		Watermark: 1_700_000_000_500, LastEvent: 1_700_000_001_000, Lag: 1500 * time.Millisecond, ResumedAt: 1_699_999_990_500,
	}, {
		Range: firehose.Range{Min: 7, Max: 12}, Source: "octave",
		Reconnects: map[firehose.Cause]int64{},
	}}
}

// fixedCollector observes fixedStats and has fixed histogram observations.
func fixedCollector(t testing.TB) *Collector {
	t.Helper()
	c := New()
	if err := c.ObserveFunc(fixedStats); err != nil {
		t.Fatal(err)
	}
	c.OnConnect(firehose.ConnectInfo{Range: firehose.Range{Min: 1, Max: 6}, Source: "http"}) // first: not recorded
	c.OnConnect(firehose.ConnectInfo{Range: firehose.Range{Min: 1, Max: 6}, Source: "http", Reconnect: true, Downtime: 750 * time.Millisecond})
	c.OnConnect(firehose.ConnectInfo{Range: firehose.Range{Min: 1, Max: 6}, Source: "http", Reconnect: true, Downtime: 3 * time.Second})
	c.handler.observe([2]string{string(firehose.DeviceEntry)}, 0.0002)
	c.handler.observe([2]string{string(firehose.DeviceEntry)}, 0.003)
	c.handler.observe([2]string{typeLabel("SOMETHING_NEW")}, 0.02)
	return c
}

func exposition(t testing.TB, c prometheus.Collector) []byte {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	if err := reg.Register(c); err != nil {
		t.Fatal(err)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	enc := expfmt.NewEncoder(&b, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, mf := range mfs {
		if err := enc.Encode(mf); err != nil {
			t.Fatal(err)
		}
	}
	return b.Bytes()
}

func TestGolden(t *testing.T) {
	c := fixedCollector(t)
	if *update {
		if err := os.WriteFile(golden, exposition(t, c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	f, err := os.Open(golden)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := testutil.CollectAndCompare(c, f); err != nil {
		t.Fatal(err)
	}
}

func TestLint(t *testing.T) {
	problems, err := testutil.CollectAndLint(fixedCollector(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("%s: %s", p.Metric, p.Text)
	}
}

// TestPedanticRegistry: Describe covers every metric Collect sends.
func TestPedanticRegistry(t *testing.T) {
	if n := len(exposition(t, fixedCollector(t))); n == 0 {
		t.Fatal("empty exposition")
	}
}

// TestNoHighCardinalityLabels: only the documented labels exist.
func TestNoHighCardinalityLabels(t *testing.T) {
	allowed := map[string]bool{LabelSystem: true, LabelOperation: true, LabelPartition: true, LabelCause: true,
		LabelReason: true, LabelType: true, "le": true}
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(fixedCollector(t))
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if !allowed[l.GetName()] {
					t.Errorf("%s: label %s", mf.GetName(), l.GetName())
				}
			}
		}
	}
}

func TestMisuse(t *testing.T) {
	c := New()
	if err := c.Observe(nil); err == nil {
		t.Error("Observe(nil): no error")
	}
	if err := c.ObserveFunc(nil); err == nil {
		t.Error("ObserveFunc(nil): no error")
	}
	if n := testutil.CollectAndCount(c); n != 0 {
		t.Errorf("nothing observed: %d metrics", n)
	}
}

// TestLiveConsumer scrapes a running consumer of a mock firehose: the
// counters equal the client's ReceiverStats, one series set per receiver.
func TestLiveConsumer(t *testing.T) {
	srv := firehosetest.NewServer(firehosetest.WithHistory(300, time.Minute),
		firehosetest.WithScript(firehosetest.Conn{After: 20, Duplicates: 5, Action: firehosetest.Cut}))
	defer srv.Close()
	col := New()
	c, err := firehose.New(append([]firehose.Option{
		firehose.WithEndpoint(srv.URL), firehose.WithAPIKey(firehosetest.DefaultAPIKey),
		firehose.WithReceivers(2), firehose.WithStart(time.Now().Add(-5 * time.Minute)),
		firehose.WithBackoff(time.Millisecond, 10*time.Millisecond),
	}, col.Options()...)...)
	if err != nil {
		t.Fatal(err)
	}
	col.Observe(c)
	ctx, cancel := context.WithCancel(context.Background())
	all := int64(srv.Log().Len())
	var n atomic.Int64
	done := make(chan struct{})
	errc := make(chan error, 1)
	go func() {
		// done closes after the wrapper has observed the last event.
		wrapped := col.WrapHandler(func(context.Context, *firehose.Event) error { return nil })
		errc <- c.Run(ctx, func(ctx context.Context, ev *firehose.Event) error {
			err := wrapped(ctx, ev)
			if n.Add(1) == all {
				close(done)
			}
			return err
		})
	}()
	select {
	case <-done:
	case err := <-errc:
		t.Fatal("Run ended early:", err)
	case <-time.After(30 * time.Second):
		cancel()
		t.Fatalf("%d of %d events after 30 s", n.Load(), all)
	}
	var consumed, dups, reconnects float64
	for _, s := range c.ReceiverStats() {
		consumed += float64(s.Events)
		dups += float64(s.Duplicates)
		reconnects += float64(s.ReconnectTotal())
	}
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(col)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	sums := map[string]float64{}
	series := map[string]int{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			series[mf.GetName()]++
			switch {
			case m.GetCounter() != nil:
				if mf.GetName() == "firehose_discarded_total" && !hasLabel(m.GetLabel(), "reason", "duplicate") {
					continue
				}
				sums[mf.GetName()] += m.GetCounter().GetValue()
			case m.GetHistogram() != nil:
				sums[mf.GetName()] += float64(m.GetHistogram().GetSampleCount())
			}
		}
	}
	if sums["messaging_client_consumed_messages_total"] != consumed || consumed != float64(all) {
		t.Errorf("consumed %v, stats %v, log %d", sums["messaging_client_consumed_messages_total"], consumed, all)
	}
	if sums["firehose_events_total"] != consumed {
		t.Errorf("events by type sum to %v, want %v", sums["firehose_events_total"], consumed)
	}
	if sums["firehose_discarded_total"] != dups || dups == 0 {
		t.Errorf("duplicates %v, stats %v", sums["firehose_discarded_total"], dups)
	}
	if sums["firehose_reconnects_total"] != reconnects || sums["firehose_reconnect_downtime_seconds"] != reconnects || reconnects == 0 {
		t.Errorf("reconnects %v, downtimes %v, stats %v", sums["firehose_reconnects_total"], sums["firehose_reconnect_downtime_seconds"], reconnects)
	}
	if sums["firehose_handler_duration_seconds"] != float64(all) {
		t.Errorf("handler histogram counted %v, want %d", sums["firehose_handler_duration_seconds"], all)
	}
	if series["firehose_connected"] != 2 {
		t.Errorf("firehose_connected: %d series, want one per receiver", series["firehose_connected"])
	}
	cancel()
	if err := <-errc; err != nil && ctx.Err() == nil {
		t.Fatal(err)
	}
}

func hasLabel(ls []*dto.LabelPair, name, value string) bool {
	for _, l := range ls {
		if l.GetName() == name && l.GetValue() == value {
			return true
		}
	}
	return false
}

// BenchmarkScrape12 measures one scrape (Collect into a registry's Gather) of
// 12 receivers.
func BenchmarkScrape12(b *testing.B) {
	plan, _ := firehose.Plan(12)
	base := fixedStats()[0]
	stats := make([]firehose.Stats, len(plan))
	for i, rg := range plan {
		stats[i] = base
		stats[i].Range = rg
	}
	c := New()
	c.ObserveFunc(func() []firehose.Stats { return stats })
	reg := prometheus.NewRegistry()
	reg.MustRegister(c)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := reg.Gather(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkWrapHandler measures the handler wrapper's cost per event.
func BenchmarkWrapHandler(b *testing.B) {
	h := New().WrapHandler(func(context.Context, *firehose.Event) error { return nil })
	ev := &firehose.Event{}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		h(ctx, ev)
	}
}
