package otelfirehose

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/firehose-go/firehose"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// ScopeName is the instrumentation scope the instruments are created under.
const ScopeName = "github.com/firehose-go/firehose/otelfirehose"

// Attribute keys.
const (
	KeySystem    = "messaging.system"
	KeyOperation = "messaging.operation.name"
	KeyPartition = "messaging.destination.partition.id"
	KeyCause     = "cause"
	KeyReason    = "reason"
	KeyType      = "type"
)

// SystemCisco is messaging.system for Cisco's three channels.
const SystemCisco = "cisco_spaces"

// System maps a source's name (Stats.Source, ConnectInfo.Source) to the
// messaging.system it is reported under: Cisco's channels "http", "ws" and
// "grpc" are one system, "cisco_spaces"; any other source keeps its name.
func System(source string) string {
	switch source {
	case "http", "ws", "grpc":
		return SystemCisco
	case "":
		return "unknown"
	}
	return source
}

// Bucket boundaries, in seconds.
var (
	downtimeBuckets = []float64{0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300}
	handlerBuckets  = []float64{0.00001, 0.00005, 0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5}
)

// Meter reports the health of firehose clients through OpenTelemetry
// instruments. Make it with New; it is safe for concurrent use.
type Meter struct {
	consumed, events, bytes, keepAlives, discarded, unknown metric.Int64ObservableCounter
	connects, failures, reconnects, gaps                    metric.Int64ObservableCounter
	connected                                               metric.Int64ObservableUpDownCounter
	lag, watermark, resume                                  metric.Float64ObservableGauge
	downtime, handler                                       metric.Float64Histogram

	reg metric.Registration

	mu      sync.Mutex // one collection at a time; guards sources and attrs
	sources []func() []firehose.Stats
	attrs   map[receiverKey]*receiverAttrs
	closed  bool

	typesMu sync.RWMutex
	types   map[firehose.EventType]metric.RecordOption // for the handler histogram
}

type receiverKey struct {
	system string
	rng    firehose.Range
}

// receiverAttrs caches the attribute sets of one receiver, so a collection
// allocates none once they are made.
type receiverAttrs struct {
	base     attribute.Set
	baseOpt  metric.MeasurementOption
	consumed metric.MeasurementOption
	with     map[attribute.KeyValue]metric.MeasurementOption // base + one more
}

func (r *receiverAttrs) plus(kv attribute.KeyValue) metric.MeasurementOption {
	if o, ok := r.with[kv]; ok {
		return o
	}
	kvs := append(r.base.ToSlice(), kv)
	o := metric.WithAttributeSet(attribute.NewSet(kvs...))
	r.with[kv] = o
	return o
}

// New makes the instruments on mp's meter for ScopeName. It does nothing
// else: install Options on the client, call Observe with it, and wrap the
// handler with WrapHandler for the histograms.
func New(mp metric.MeterProvider) (*Meter, error) {
	if mp == nil {
		return nil, errors.New("otelfirehose: nil MeterProvider")
	}
	mt := mp.Meter(ScopeName)
	m := &Meter{attrs: map[receiverKey]*receiverAttrs{}, types: map[firehose.EventType]metric.RecordOption{}}
	var errs []error
	counter := func(name, unit, desc string) metric.Int64ObservableCounter {
		c, err := mt.Int64ObservableCounter(name, metric.WithUnit(unit), metric.WithDescription(desc))
		errs = append(errs, err)
		return c
	}
	gauge := func(name, unit, desc string) metric.Float64ObservableGauge {
		g, err := mt.Float64ObservableGauge(name, metric.WithUnit(unit), metric.WithDescription(desc))
		errs = append(errs, err)
		return g
	}
	m.consumed = counter("messaging.client.consumed.messages", "{message}", "Number of messages that were delivered to the application.")
	m.events = counter("firehose.events", "{event}", "Events delivered, by event type.")
	m.bytes = counter("firehose.bytes", "By", "Bytes of the events delivered, as received.")
	m.keepAlives = counter("firehose.keepalives", "{keepalive}", "Keep-alives received (never delivered).")
	m.discarded = counter("firehose.discarded", "{frame}", "Frames not delivered, by reason: duplicate, malformed, oversized, torn.")
	m.unknown = counter("firehose.unknown_types", "{event}", "Events of a type the protocol's enum has no number for (delivered all the same).")
	m.connects = counter("firehose.connects", "{connection}", "Successful connections.")
	m.failures = counter("firehose.connect_failures", "{attempt}", "Failed connection attempts.")
	m.reconnects = counter("firehose.reconnects", "{reconnect}", "Connections ended and replaced, by cause.")
	m.gaps = counter("firehose.gaps", "{gap}", "Possible gaps reported (events may be missing), by reason.")
	var err error
	m.connected, err = mt.Int64ObservableUpDownCounter("firehose.connected", metric.WithUnit("{receiver}"),
		metric.WithDescription("Receivers connected now."))
	errs = append(errs, err)
	m.lag = gauge("firehose.lag", "s", "Time since the newest delivered event's timestamp.")
	m.watermark = gauge("firehose.watermark.timestamp", "s", "Timestamp of the newest finished event, in seconds since the epoch.")
	m.resume = gauge("firehose.resume_point.timestamp", "s", "Where the latest connection resumed from, in seconds since the epoch (absent while live).")
	m.downtime, err = mt.Float64Histogram("firehose.reconnect.downtime", metric.WithUnit("s"),
		metric.WithDescription("Time from a connection's end to its replacement."),
		metric.WithExplicitBucketBoundaries(downtimeBuckets...))
	errs = append(errs, err)
	m.handler, err = mt.Float64Histogram("firehose.handler.duration", metric.WithUnit("s"),
		metric.WithDescription("Time the handler took per event, by event type."),
		metric.WithExplicitBucketBoundaries(handlerBuckets...))
	errs = append(errs, err)
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	m.reg, err = mt.RegisterCallback(m.collect, m.consumed, m.events, m.bytes, m.keepAlives, m.discarded, m.unknown,
		m.connects, m.failures, m.reconnects, m.gaps, m.connected, m.lag, m.watermark, m.resume)
	if err != nil {
		return nil, err
	}
	return m, nil
}

// Options returns the client options that feed the hook-driven instrument:
// a connect hook that records each reconnect's downtime. Add them to
// firehose.New's options; they compose with hooks of your own.
func (m *Meter) Options() []firehose.Option {
	return []firehose.Option{firehose.WithConnectHook(m.OnConnect)}
}

// OnConnect is the connect hook Options installs: it records a reconnect's
// downtime (a first connection records nothing). Call it from a hook of your
// own instead of Options if you prefer.
func (m *Meter) OnConnect(ci firehose.ConnectInfo) {
	if !ci.Reconnect {
		return
	}
	m.mu.Lock()
	opt := m.receiver(System(ci.Source), ci.Range).baseOpt
	m.mu.Unlock()
	m.downtime.Record(context.Background(), ci.Downtime.Seconds(), opt)
}

// Observe reports client's receivers at every collection.
func (m *Meter) Observe(client *firehose.Client) error {
	if client == nil {
		return errors.New("otelfirehose: nil client")
	}
	return m.ObserveFunc(client.ReceiverStats)
}

// ObserveFunc reports the receivers stats returns at every collection; it is
// called once per collection and must return one Stats per receiver, each
// with its Source and Range. Observe(c) is ObserveFunc(c.ReceiverStats).
func (m *Meter) ObserveFunc(stats func() []firehose.Stats) error {
	if stats == nil {
		return errors.New("otelfirehose: nil stats func")
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return errors.New("otelfirehose: Meter closed")
	}
	m.sources = append(m.sources, stats)
	return nil
}

// Close stops reporting the observed clients (the histograms keep working).
// It is safe to call more than once.
func (m *Meter) Close() error {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return nil
	}
	m.closed = true
	m.sources = nil
	m.mu.Unlock()
	return m.reg.Unregister()
}

// receiver returns the cached attributes of a receiver. Call with mu held.
func (m *Meter) receiver(system string, rng firehose.Range) *receiverAttrs {
	k := receiverKey{system, rng}
	if r, ok := m.attrs[k]; ok {
		return r
	}
	base := attribute.NewSet(attribute.String(KeySystem, system), attribute.String(KeyPartition, rng.String()))
	r := &receiverAttrs{base: base, baseOpt: metric.WithAttributeSet(base), with: map[attribute.KeyValue]metric.MeasurementOption{}}
	r.consumed = r.plus(attribute.String(KeyOperation, "receive"))
	m.attrs[k] = r
	return r
}

// collect reports one snapshot of every observed receiver.
func (m *Meter) collect(_ context.Context, o metric.Observer) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, f := range m.sources {
		for _, s := range f() {
			m.observe(o, &s)
		}
	}
	return nil
}

func (m *Meter) observe(o metric.Observer, s *firehose.Stats) {
	r := m.receiver(System(s.Source), s.Range)
	base := r.baseOpt
	o.ObserveInt64(m.consumed, s.Events, r.consumed)
	for t, n := range s.EventsByType {
		o.ObserveInt64(m.events, n, r.plus(attribute.String(KeyType, string(t))))
	}
	o.ObserveInt64(m.bytes, s.Bytes, base)
	o.ObserveInt64(m.keepAlives, s.KeepAlives, base)
	for _, d := range [...]struct {
		reason string
		n      int64
	}{{"duplicate", s.Duplicates}, {"malformed", s.Malformed}, {"oversized", s.Oversized}, {"torn", s.Torn}} {
		o.ObserveInt64(m.discarded, d.n, r.plus(attribute.String(KeyReason, d.reason)))
	}
	o.ObserveInt64(m.unknown, s.Unknown, base)
	o.ObserveInt64(m.connects, s.Connects, base)
	o.ObserveInt64(m.failures, s.Failures, base)
	for c, n := range s.Reconnects {
		o.ObserveInt64(m.reconnects, n, r.plus(attribute.String(KeyCause, string(c))))
	}
	for g, n := range s.GapsBy {
		o.ObserveInt64(m.gaps, n, r.plus(attribute.String(KeyReason, string(g))))
	}
	var up int64
	if s.Connected > 0 {
		up = 1
	}
	o.ObserveInt64(m.connected, up, base)
	if s.LastEvent > 0 {
		o.ObserveFloat64(m.lag, s.Lag.Seconds(), base)
	}
	if s.Watermark > 0 {
		o.ObserveFloat64(m.watermark, float64(s.Watermark)/1e3, base)
	}
	if s.ResumedAt > 0 {
		o.ObserveFloat64(m.resume, float64(s.ResumedAt)/1e3, base)
	}
}

// WrapHandler returns h timed into the firehose.handler.duration histogram,
// by event type (a type outside the documented ones counts as "other").
func (m *Meter) WrapHandler(h firehose.Handler) firehose.Handler {
	return func(ctx context.Context, ev *firehose.Event) error {
		start := time.Now()
		err := h(ctx, ev)
		m.handler.Record(ctx, time.Since(start).Seconds(), m.typeOption(ev.Type()))
		return err
	}
}

// WrapBorrowed is WrapHandler for Client.RunBorrowed's handlers.
func (m *Meter) WrapBorrowed(h firehose.BorrowedHandler) firehose.BorrowedHandler {
	return func(ctx context.Context, ev *firehose.BorrowedEvent) error {
		start := time.Now()
		err := h(ctx, ev)
		m.handler.Record(ctx, time.Since(start).Seconds(), m.typeOption(ev.Type()))
		return err
	}
}

func (m *Meter) typeOption(t firehose.EventType) metric.RecordOption {
	if !t.Known() {
		t = firehose.TypeOther // the map stays bounded: every other name counts as "other"
	}
	m.typesMu.RLock()
	o, ok := m.types[t]
	m.typesMu.RUnlock()
	if ok {
		return o
	}
	o = metric.WithAttributeSet(attribute.NewSet(attribute.String(KeyType, string(t))))
	m.typesMu.Lock()
	m.types[t] = o
	m.typesMu.Unlock()
	return o
}
