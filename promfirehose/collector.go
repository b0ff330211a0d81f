// Package promfirehose exports a firehose consumer's health as Prometheus
// metrics: a prometheus.Collector that builds const metrics from one snapshot
// of firehose.Client.ReceiverStats per scrape, plus two histograms fed by a
// connect hook (reconnect downtime) and a handler wrapper (handler duration).
//
//	col := promfirehose.New()
//	client, err := firehose.New(append(opts, col.Options()...)...)
//	if err != nil { ... }
//	col.Observe(client)
//	registry.MustRegister(col)
//	err = client.Run(ctx, col.WrapHandler(handle))
//
// The names and labels are exactly those the OpenTelemetry-to-Prometheus
// translation gives otelfirehose's instruments (counters end in _total, units
// in UCUM are appended as words: s -> seconds, By -> bytes, annotations such
// as {event} are dropped; attribute dots become underscores), so one
// dashboard reads either. Times are epoch seconds in *_timestamp_seconds
// gauges. Every series of a receiver carries
//
//	messaging_system                    "cisco_spaces" for Cisco's channels, else the source's name
//	messaging_destination_partition_id  the receiver's partition range, "1-12"
//
// and, per metric, one of cause, reason or type: never an event id, a tenant
// or anything else that grows with the traffic. A receiver's series go away
// when its stream closes.
package promfirehose

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/firehose-go/firehose"
	"github.com/prometheus/client_golang/prometheus"
)

// Label names.
const (
	LabelSystem    = "messaging_system"
	LabelOperation = "messaging_operation_name"
	LabelPartition = "messaging_destination_partition_id"
	LabelCause     = "cause"
	LabelReason    = "reason"
	LabelType      = "type"
)

// System maps a source's name (Stats.Source, ConnectInfo.Source) to its
// messaging_system label: Cisco's channels "http", "ws" and "grpc" are one
// system, "cisco_spaces"; any other source keeps its name.
func System(source string) string {
	switch source {
	case "http", "ws", "grpc":
		return "cisco_spaces"
	case "":
		return "unknown"
	}
	return source
}

// Bucket boundaries, in seconds (the same as otelfirehose's).
var (
	downtimeBuckets = []float64{0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300}
	handlerBuckets  = []float64{0.00001, 0.00005, 0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5}
)

var receiverLabels = []string{LabelSystem, LabelPartition}

func desc(name, help string, extra ...string) *prometheus.Desc {
	return prometheus.NewDesc(name, help, append(append([]string{}, receiverLabels...), extra...), nil)
}

// The metrics, with otelfirehose's descriptions as their help.
var (
	descConsumed   = desc("messaging_client_consumed_messages_total", "Number of messages that were delivered to the application.", LabelOperation)
	descEvents     = desc("firehose_events_total", "Events delivered, by event type.", LabelType)
	descBytes      = desc("firehose_bytes_total", "Bytes of the events delivered, as received.")
	descKeepAlives = desc("firehose_keepalives_total", "Keep-alives received (never delivered).")
	descDiscarded  = desc("firehose_discarded_total", "Frames not delivered, by reason: duplicate, malformed, oversized, torn.", LabelReason)
	descUnknown    = desc("firehose_unknown_types_total", "Events of a type the protocol's enum has no number for (delivered all the same).")
	descConnects   = desc("firehose_connects_total", "Successful connections.")
	descFailures   = desc("firehose_connect_failures_total", "Failed connection attempts.")
	descReconnects = desc("firehose_reconnects_total", "Connections ended and replaced, by cause.", LabelCause)
	descGaps       = desc("firehose_gaps_total", "Possible gaps reported (events may be missing), by reason.", LabelReason)
	descConnected  = desc("firehose_connected", "Receivers connected now.")
	descLag        = desc("firehose_lag_seconds", "Time since the newest delivered event's timestamp.")
	descWatermark  = desc("firehose_watermark_timestamp_seconds", "Timestamp of the newest finished event, in seconds since the epoch.")
	descResume     = desc("firehose_resume_point_timestamp_seconds", "Where the latest connection resumed from, in seconds since the epoch (absent while live).")
	descDowntime   = desc("firehose_reconnect_downtime_seconds", "Time from a connection's end to its replacement.")
	descHandler    = prometheus.NewDesc("firehose_handler_duration_seconds", "Time the handler took per event, by event type.", []string{LabelType}, nil)
)

// Collector is a prometheus.Collector over firehose clients. Make it with
// New; it is safe for concurrent use.
type Collector struct {
	mu      sync.Mutex // guards sources
	sources []func() []firehose.Stats

	downtime *histVec
	handler  *histVec
}

// New returns a Collector that observes nothing yet: add Options to the
// client, then Observe it.
func New() *Collector {
	return &Collector{downtime: newHistVec(downtimeBuckets), handler: newHistVec(handlerBuckets)}
}

// Options returns the client options that feed the reconnect downtime
// histogram (a connect hook; it composes with hooks of your own).
func (c *Collector) Options() []firehose.Option {
	return []firehose.Option{firehose.WithConnectHook(c.OnConnect)}
}

// OnConnect is the connect hook Options installs: it records a reconnect's
// downtime (a first connection records nothing).
func (c *Collector) OnConnect(ci firehose.ConnectInfo) {
	if ci.Reconnect {
		c.downtime.observe([2]string{System(ci.Source), ci.Range.String()}, ci.Downtime.Seconds())
	}
}

// Observe reports client's open receivers at every scrape.
func (c *Collector) Observe(client *firehose.Client) error {
	if client == nil {
		return errors.New("promfirehose: nil client")
	}
	return c.ObserveFunc(client.ReceiverStats)
}

// ObserveFunc reports the receivers stats returns at every scrape; it is
// called once per scrape and must return one Stats per receiver, each with
// its Source and Range. Observe(c) is ObserveFunc(c.ReceiverStats).
func (c *Collector) ObserveFunc(stats func() []firehose.Stats) error {
	if stats == nil {
		return errors.New("promfirehose: nil stats func")
	}
	c.mu.Lock()
	c.sources = append(c.sources, stats)
	c.mu.Unlock()
	return nil
}

// WrapHandler returns h timed into firehose_handler_duration_seconds, by
// event type (a type outside the documented ones counts as "other").
func (c *Collector) WrapHandler(h firehose.Handler) firehose.Handler {
	return func(ctx context.Context, ev *firehose.Event) error {
		start := time.Now()
		err := h(ctx, ev)
		c.handler.observe([2]string{typeLabel(ev.Type())}, time.Since(start).Seconds())
		return err
	}
}

// WrapBorrowed is WrapHandler for Client.RunBorrowed's handlers.
func (c *Collector) WrapBorrowed(h firehose.BorrowedHandler) firehose.BorrowedHandler {
	return func(ctx context.Context, ev *firehose.BorrowedEvent) error {
		start := time.Now()
		err := h(ctx, ev)
		c.handler.observe([2]string{typeLabel(ev.Type())}, time.Since(start).Seconds())
		return err
	}
}

func typeLabel(t firehose.EventType) string {
	if t == firehose.TypeOther || t.Known() {
		return string(t)
	}
	return string(firehose.TypeOther)
}

// Describe sends every metric's descriptor.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descConsumed, descEvents, descBytes, descKeepAlives, descDiscarded,
		descUnknown, descConnects, descFailures, descReconnects, descGaps, descConnected, descLag, descWatermark,
		descResume, descDowntime, descHandler} {
		ch <- d
	}
}

// Collect takes one snapshot of every observed client and sends its metrics.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	sources := append([]func() []firehose.Stats(nil), c.sources...)
	c.mu.Unlock()
	for _, f := range sources {
		for _, s := range f() {
			collectReceiver(ch, &s)
		}
	}
	c.downtime.collect(ch, descDowntime, 2)
	c.handler.collect(ch, descHandler, 1)
}

func collectReceiver(ch chan<- prometheus.Metric, s *firehose.Stats) {
	sys, part := System(s.Source), s.Range.String()
	counter := func(d *prometheus.Desc, v int64, extra ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), append([]string{sys, part}, extra...)...)
	}
	gauge := func(d *prometheus.Desc, v float64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, sys, part)
	}
	counter(descConsumed, s.Events, "receive")
	for t, n := range s.EventsByType {
		counter(descEvents, n, string(t))
	}
	counter(descBytes, s.Bytes)
	counter(descKeepAlives, s.KeepAlives)
	counter(descDiscarded, s.Duplicates, "duplicate")
	counter(descDiscarded, s.Malformed, "malformed")
	counter(descDiscarded, s.Oversized, "oversized")
	counter(descDiscarded, s.Torn, "torn")
	counter(descUnknown, s.Unknown)
	counter(descConnects, s.Connects)
	counter(descFailures, s.Failures)
	for cause, n := range s.Reconnects {
		counter(descReconnects, n, string(cause))
	}
	for r, n := range s.GapsBy {
		counter(descGaps, n, string(r))
	}
	var up float64
	if s.Connected > 0 {
		up = 1
	}
	gauge(descConnected, up)
	if s.LastEvent > 0 {
		gauge(descLag, s.Lag.Seconds())
	}
	if s.Watermark > 0 {
		gauge(descWatermark, float64(s.Watermark)/1e3)
	}
	if s.ResumedAt > 0 {
		gauge(descResume, float64(s.ResumedAt)/1e3)
	}
}
