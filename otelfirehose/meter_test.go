package otelfirehose_test

import (
	"context"
	"math"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/firehose-go/firehose"
	"github.com/firehose-go/firehose/firehosetest"
	"github.com/firehose-go/firehose/otelfirehose"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
)

// points is one collection flattened: "name{k=v,...}" -> value; a histogram
// gives name_count{...} and name_sum{...}.
type points struct {
	v     map[string]float64
	units map[string]string
}

func collect(t testing.TB, r *sdkmetric.ManualReader) points {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := r.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	p := points{v: map[string]float64{}, units: map[string]string{}}
	for _, sm := range rm.ScopeMetrics {
		if sm.Scope.Name != otelfirehose.ScopeName {
			t.Errorf("scope %q", sm.Scope.Name)
		}
		for _, m := range sm.Metrics {
			p.units[m.Name] = m.Unit
			switch d := m.Data.(type) {
			case metricdata.Sum[int64]:
				for _, dp := range d.DataPoints {
					p.v[m.Name+attrs(dp.Attributes)] = float64(dp.Value)
				}
			case metricdata.Gauge[float64]:
				for _, dp := range d.DataPoints {
					p.v[m.Name+attrs(dp.Attributes)] = dp.Value
				}
			case metricdata.Histogram[float64]:
				for _, dp := range d.DataPoints {
					a := attrs(dp.Attributes)
					p.v[m.Name+"_count"+a] = float64(dp.Count)
					p.v[m.Name+"_sum"+a] = dp.Sum
				}
			default:
				t.Fatalf("%s: unexpected data %T", m.Name, m.Data)
			}
		}
	}
	return p
}

// attrs renders a set as {k=v,...} with the receiver's two keys left out
// when they are the ones the test expects (see recv).
func attrs(s attribute.Set) string {
	var parts []string
	for _, kv := range s.ToSlice() {
		parts = append(parts, string(kv.Key)+"="+kv.Value.Emit())
	}
	sort.Strings(parts)
	return "{" + strings.Join(parts, ",") + "}"
}

// recv is the attribute string of a receiver plus extra "k=v" pairs.
func recv(system string, r firehose.Range, extra ...string) string {
	parts := append([]string{"messaging.system=" + system, "messaging.destination.partition.id=" + r.String()}, extra...)
	sort.Strings(parts)
	return "{" + strings.Join(parts, ",") + "}"
}

func newMeter(t testing.TB) (*otelfirehose.Meter, *sdkmetric.ManualReader) {
	t.Helper()
	r := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(r))
	t.Cleanup(func() { mp.Shutdown(context.Background()) })
	m, err := otelfirehose.New(mp)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m, r
}

// fixedStats is a deterministic pair of receivers.
func fixedStats() []firehose.Stats {
	return []firehose.Stats{{
		Range: firehose.Range{Min: 1, Max: 6}, Source: "http",
		Events: 10, EventsByType: map[firehose.EventType]int64{firehose.DeviceEntry: 7, firehose.TypeOther: 3},
		Bytes: 4096, KeepAlives: 2, Duplicates: 3, Malformed: 1, Oversized: 0, Torn: 1, Unknown: 3,
		Connects: 3, Failures: 1, Reconnects: map[firehose.Cause]int64{firehose.CauseEOF: 1, firehose.CauseIdle: 1},
		Gaps: 1, GapsBy: map[firehose.GapReason]int64{firehose.GapClamped: 1}, Connected: 1,
		Watermark: 1_700_000_000_500, LastEvent: 1_700_000_001_000, Lag: 1500 * time.Millisecond, ResumedAt: 1_699_999_990_500,
	}, {
		Range: firehose.Range{Min: 7, Max: 12}, Source: "octave",
		Reconnects: map[firehose.Cause]int64{},
	}}
}

func TestInstrumentsFromFixedStats(t *testing.T) {
	m, r := newMeter(t)
	if err := m.ObserveFunc(fixedStats); err != nil {
		t.Fatal(err)
	}
	p := collect(t, r)
	a := firehose.Range{Min: 1, Max: 6}
	b := firehose.Range{Min: 7, Max: 12}
	const cisco = "cisco_spaces"
	want := map[string]float64{
		"messaging.client.consumed.messages" + recv(cisco, a, "messaging.operation.name=receive"): 10,
		"firehose.events" + recv(cisco, a, "type=DEVICE_ENTRY"):                                   7,
		"firehose.events" + recv(cisco, a, "type=other"):                                          3,
		"firehose.bytes" + recv(cisco, a):                                                         4096,
		"firehose.keepalives" + recv(cisco, a):                                                    2,
		"firehose.discarded" + recv(cisco, a, "reason=duplicate"):                                 3,
		"firehose.discarded" + recv(cisco, a, "reason=malformed"):                                 1,
		"firehose.discarded" + recv(cisco, a, "reason=oversized"):                                 0,
		"firehose.discarded" + recv(cisco, a, "reason=torn"):                                      1,
		"firehose.unknown_types" + recv(cisco, a):                                                 3,
		"firehose.connects" + recv(cisco, a):                                                      3,
		"firehose.connect_failures" + recv(cisco, a):                                              1,
		"firehose.reconnects" + recv(cisco, a, "cause=eof"):                                       1,
		"firehose.reconnects" + recv(cisco, a, "cause=idle"):                                      1,
		"firehose.gaps" + recv(cisco, a, "reason=clamped"):                                        1,
		"firehose.connected" + recv(cisco, a):                                                     1,
		"firehose.lag" + recv(cisco, a):                                                           1.5,
		"firehose.watermark.timestamp" + recv(cisco, a):                                           1_700_000_000.5,
		"firehose.resume_point.timestamp" + recv(cisco, a):                                        1_699_999_990.5,

		"messaging.client.consumed.messages" + recv("octave", b, "messaging.operation.name=receive"): 0,
		"firehose.bytes" + recv("octave", b):                         0,
		"firehose.keepalives" + recv("octave", b):                    0,
		"firehose.discarded" + recv("octave", b, "reason=duplicate"): 0,
		"firehose.discarded" + recv("octave", b, "reason=malformed"): 0,
		"firehose.discarded" + recv("octave", b, "reason=oversized"): 0,
		"firehose.discarded" + recv("octave", b, "reason=torn"):      0,
		"firehose.unknown_types" + recv("octave", b):                 0,
		"firehose.connects" + recv("octave", b):                      0,
		"firehose.connect_failures" + recv("octave", b):              0,
		"firehose.connected" + recv("octave", b):                     0,
	}
	for k, v := range want {
		got, ok := p.v[k]
		if !ok {
			t.Errorf("missing %s", k)
		} else if math.Abs(got-v) > 1e-6 {
			t.Errorf("%s = %v, want %v", k, got, v)
		}
	}
	for k := range p.v {
		if _, ok := want[k]; !ok {
			t.Errorf("unexpected point %s = %v", k, p.v[k])
		}
	}
	units := map[string]string{
		"messaging.client.consumed.messages": "{message}", "firehose.bytes": "By", "firehose.lag": "s",
		"firehose.watermark.timestamp": "s", "firehose.events": "{event}", "firehose.connected": "{receiver}",
	}
	for n, u := range units {
		if p.units[n] != u {
			t.Errorf("%s unit %q, want %q", n, p.units[n], u)
		}
	}
	// A second collection reads a fresh snapshot and caches attributes.
	if p2 := collect(t, r); len(p2.v) != len(p.v) {
		t.Errorf("second collection: %d points, want %d", len(p2.v), len(p.v))
	}
}

func TestSystem(t *testing.T) {
	for in, want := range map[string]string{"http": "cisco_spaces", "ws": "cisco_spaces", "grpc": "cisco_spaces",
		"octave": "octave", "callevents": "callevents", "": "unknown"} {
		if got := otelfirehose.System(in); got != want {
			t.Errorf("System(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestMisuse(t *testing.T) {
	if _, err := otelfirehose.New(nil); err == nil {
		t.Error("New(nil): no error")
	}
	m, _ := newMeter(t)
	if err := m.Observe(nil); err == nil {
		t.Error("Observe(nil): no error")
	}
	if err := m.ObserveFunc(nil); err == nil {
		t.Error("ObserveFunc(nil): no error")
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if err := m.Close(); err != nil {
		t.Fatal("second Close:", err)
	}
	if err := m.ObserveFunc(fixedStats); err == nil {
		t.Error("ObserveFunc after Close: no error")
	}
}

// TestLiveConsumerMatchesStats runs three receivers against a mock with a
// cut, a duplicate burst and a malformed line, then checks that one
// collection reports exactly each receiver's Stats.
func TestLiveConsumerMatchesStats(t *testing.T) {
	srv := firehosetest.NewServer(firehosetest.WithHistory(600, time.Minute),
		firehosetest.WithScript(firehosetest.Conn{After: 40, Duplicates: 10, Action: firehosetest.Cut,
			Inject: []firehosetest.Inject{{At: 5, Kind: firehosetest.Malformed}}}))
	defer srv.Close()
	m, r := newMeter(t)
	var hooked atomic.Int64
	c, err := firehose.New(append([]firehose.Option{
		firehose.WithEndpoint(srv.URL), firehose.WithAPIKey(firehosetest.DefaultAPIKey),
		firehose.WithReceivers(3), firehose.WithStart(time.Now().Add(-5 * time.Minute)),
		firehose.WithBackoff(time.Millisecond, 10*time.Millisecond),
		firehose.WithConnectHook(func(firehose.ConnectInfo) { hooked.Add(1) }), // composes with the meter's
	}, m.Options()...)...)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Observe(c); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	all := int64(srv.Log().Len())
	var n atomic.Int64
	done := make(chan struct{})
	errc := make(chan error, 1)
	go func() {
		// done closes after the wrapper has observed the last event.
		wrapped := m.WrapHandler(func(context.Context, *firehose.Event) error { return nil })
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
	// Every event is finished; let the last watermark land.
	var rs []firehose.Stats
	for deadline := time.Now().Add(5 * time.Second); ; {
		rs = c.ReceiverStats()
		var ev int64
		for _, s := range rs {
			ev += s.Events
		}
		if ev == all || time.Now().After(deadline) {
			break
		}
		time.Sleep(time.Millisecond)
	}
	p := collect(t, r)
	after := c.ReceiverStats()
	if len(rs) != 3 {
		t.Fatalf("%d receivers, want 3", len(rs))
	}
	var reconnects, dups, malformed int64
	for i, s := range rs {
		sys := otelfirehose.System(s.Source)
		check := func(key string, want float64) {
			t.Helper()
			if got, ok := p.v[key]; !ok || got != want {
				t.Errorf("receiver %d: %s = %v (present %v), want %v", i, key, got, ok, want)
			}
		}
		check("messaging.client.consumed.messages"+recv(sys, s.Range, "messaging.operation.name=receive"), float64(s.Events))
		for typ, v := range s.EventsByType {
			check("firehose.events"+recv(sys, s.Range, "type="+string(typ)), float64(v))
		}
		check("firehose.bytes"+recv(sys, s.Range), float64(s.Bytes))
		check("firehose.discarded"+recv(sys, s.Range, "reason=duplicate"), float64(s.Duplicates))
		check("firehose.discarded"+recv(sys, s.Range, "reason=malformed"), float64(s.Malformed))
		check("firehose.connects"+recv(sys, s.Range), float64(s.Connects))
		check("firehose.connected"+recv(sys, s.Range), 1)
		check("firehose.watermark.timestamp"+recv(sys, s.Range), float64(s.Watermark)/1e3)
		for cause, v := range s.Reconnects {
			check("firehose.reconnects"+recv(sys, s.Range, "cause="+string(cause)), float64(v))
		}
		if lag := p.v["firehose.lag"+recv(sys, s.Range)]; lag < s.Lag.Seconds() || lag > after[i].Lag.Seconds() {
			t.Errorf("receiver %d: lag %v outside [%v, %v]", i, lag, s.Lag, after[i].Lag)
		}
		// The connect hook saw every reconnect of this receiver.
		if s.ReconnectTotal() > 0 {
			check("firehose.reconnect.downtime_count"+recv(sys, s.Range), float64(s.ReconnectTotal()))
		}
		reconnects += s.ReconnectTotal()
		dups += s.Duplicates
		malformed += s.Malformed
	}
	if reconnects == 0 || dups == 0 || malformed == 0 {
		t.Errorf("the script's faults did not show: %d reconnects, %d duplicates, %d malformed", reconnects, dups, malformed)
	}
	if hooked.Load() != 3+reconnects {
		t.Errorf("own connect hook called %d times, want %d", hooked.Load(), 3+reconnects)
	}
	var handled float64
	for k, v := range p.v {
		if strings.HasPrefix(k, "firehose.handler.duration_count{") {
			handled += v
		}
	}
	if handled != float64(all) {
		t.Errorf("handler histogram counted %v events, want %d", handled, all)
	}
	cancel()
	if err := <-errc; err != nil && ctx.Err() == nil {
		t.Fatal(err)
	}
	// Closed receivers report nothing more.
	for k := range collect(t, r).v {
		if strings.HasPrefix(k, "messaging.client.consumed.messages") {
			t.Errorf("after Run: %s still reported", k)
		}
	}
}

// BenchmarkCollect12 measures one collection of 12 receivers.
func BenchmarkCollect12(b *testing.B) {
	m, r := newMeter(b)
	plan, _ := firehose.Plan(12)
	base := fixedStats()[0]
	stats := make([]firehose.Stats, len(plan))
	for i, rg := range plan {
		stats[i] = base
		stats[i].Range = rg
	}
	if err := m.ObserveFunc(func() []firehose.Stats { return stats }); err != nil {
		b.Fatal(err)
	}
	var rm metricdata.ResourceMetrics
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if err := r.Collect(ctx, &rm); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkWrapHandler measures the handler wrapper's cost per event.
func BenchmarkWrapHandler(b *testing.B) {
	m, _ := newMeter(b)
	h := m.WrapHandler(func(context.Context, *firehose.Event) error { return nil })
	ev := &firehose.Event{}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		h(ctx, ev)
	}
}

// The handler histogram counts events of a type it has no name for (every
// event of a source other than Cisco's) under "other", and a bounded set of
// type attributes; it used to recurse forever on them.
func TestWrapHandlerOtherTypes(t *testing.T) {
	m, r := newMeter(t)
	h := m.WrapHandler(func(context.Context, *firehose.Event) error { return nil })
	for range 3 {
		if err := h(context.Background(), &firehose.Event{}); err != nil {
			t.Fatal(err)
		}
	}
	p := collect(t, r)
	var other float64
	for k, v := range p.v {
		if strings.HasPrefix(k, "firehose.handler.duration_count") && strings.Contains(k, "type=other") {
			other += v
		}
	}
	if other != 3 {
		t.Fatalf("handler durations under type other: %v, want 3 (points %v)", other, p.v)
	}
}
