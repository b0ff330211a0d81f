package firehose_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/firehose-go/firehose"
	"github.com/firehose-go/firehose/firehosetest"
)

// transports are the channels the conformance table runs over.
var transports = []firehose.Transport{firehose.TransportHTTP, firehose.TransportWebSocket, firehose.TransportGRPC}

// fast are the injected short durations that keep the suite quick without sleeps.
func fast() []firehose.Option {
	return []firehose.Option{
		firehose.WithBackoff(time.Millisecond, 20*time.Millisecond),
		firehose.WithIdleTimeout(300 * time.Millisecond),
	}
}

func newClient(t *testing.T, srv *firehosetest.Server, tr firehose.Transport, opts ...firehose.Option) *firehose.Client {
	t.Helper()
	all := append([]firehose.Option{
		firehose.WithEndpoint(srv.URL),
		firehose.WithAPIKey("test-key"),
		firehose.WithTransport(tr),
	}, fast()...)
	c, err := firehose.New(append(all, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

type key struct {
	id string
	ts int64
}

// collect reads until every event of want has arrived, failing on a
// duplicate, a keep-alive or an event that is not in want.
func collect(t *testing.T, s firehose.Stream, want []firehosetest.Event) map[key]*firehose.Event {
	t.Helper()
	wantSet := make(map[key]bool, len(want))
	for _, e := range want {
		wantSet[key{e.UID, e.Timestamp}] = true
	}
	got := make(map[key]*firehose.Event, len(want))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for len(got) < len(want) {
		ev, err := s.Next(ctx)
		if err != nil {
			t.Fatalf("after %d of %d events: %v (stats %+v)", len(got), len(want), err, s.Stats())
		}
		if ev.Type() == firehose.KeepAlive {
			t.Fatalf("keep-alive delivered: %s", ev.JSON())
		}
		k := key{ev.ID(), ev.Timestamp()}
		if got[k] != nil {
			t.Fatalf("event %v delivered twice", k)
		}
		if !wantSet[k] {
			continue // a live event after the log's end is fine; it is not counted
		}
		got[k] = ev
	}
	return got
}

func openStream(t *testing.T, c *firehose.Client) firehose.Stream {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := c.Open(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestConformance runs every fault over every transport: each event of the
// range arrives exactly once, none is lost, no keep-alive is delivered.
func TestConformance(t *testing.T) {
	faults := []struct {
		name   string
		script []firehosetest.Conn
		opts   []firehosetest.Option
		check  func(t *testing.T, st firehose.Stats, srv *firehosetest.Server)
	}{
		{name: "clean"},
		{name: "cut", script: []firehosetest.Conn{{After: 100, Action: firehosetest.Cut}, {After: 120, Action: firehosetest.Cut}},
			check: atLeastReconnects(2)},
		{name: "cut mid-line", script: []firehosetest.Conn{{After: 120, Action: firehosetest.CutMidLine}, {After: 7, Action: firehosetest.CutMidLine}},
			check: atLeastReconnects(2)},
		{name: "end of stream", script: []firehosetest.Conn{{After: 50, Action: firehosetest.EndStream}}, check: atLeastReconnects(1)},
		{name: "duplicate bursts", script: []firehosetest.Conn{{After: 100, Duplicates: 40, Action: firehosetest.Cut}},
			check: func(t *testing.T, st firehose.Stats, _ *firehosetest.Server) {
				if st.Duplicates == 0 {
					t.Errorf("no duplicates dropped: %+v", st)
				}
			}},
		{name: "stall", script: []firehosetest.Conn{{After: 80, Action: firehosetest.Stall}},
			check: func(t *testing.T, st firehose.Stats, _ *firehosetest.Server) {
				if st.Reconnects[firehose.CauseIdle] == 0 {
					t.Errorf("stall did not cause an idle reconnect: %+v", st)
				}
			}},
		{name: "429 then 500", script: []firehosetest.Conn{{Status: 429, RetryAfter: "0"}, {Status: 500, Message: "boom"}, {Status: 503}},
			check: func(t *testing.T, st firehose.Stats, _ *firehosetest.Server) {
				if st.Failures != 3 {
					t.Errorf("failures = %d, want 3", st.Failures)
				}
			}},
		{name: "bad lines", script: []firehosetest.Conn{{Inject: []firehosetest.Inject{
			{At: 5, Kind: firehosetest.Malformed}, {At: 9, Kind: firehosetest.Oversized, Size: 64 << 10},
			{At: 10, Kind: firehosetest.UnknownType}}}},
			check: func(t *testing.T, st firehose.Stats, _ *firehosetest.Server) {
				if st.Malformed == 0 || st.Oversized != 1 {
					t.Errorf("malformed %d oversized %d, want >0 and 1", st.Malformed, st.Oversized)
				}
			}},
		// Cuts every 60 events while a reconnect replays 100 (the 10 s margin
		// at 10 events/s): the margin must adapt or the stream livelocks.
		{name: "cut inside the replay", script: repeatConn(40, firehosetest.Conn{After: 60, Action: firehosetest.CutMidLine}),
			check: func(t *testing.T, st firehose.Stats, _ *firehosetest.Server) {
				if st.Gaps == 0 {
					t.Errorf("the reduced margin was not reported: %+v", st)
				}
				// Without the adaptation every one of the 40 scripted
				// connections replays only duplicates; with it the stream
				// is done before the script runs out.
				if st.Connects > 40 {
					t.Errorf("%d connections: the stream made no progress while cut inside the replay", st.Connects)
				}
			}},
		{name: "unknown types", opts: []firehosetest.Option{firehosetest.WithUnknownTypes(true)},
			check: func(t *testing.T, st firehose.Stats, _ *firehosetest.Server) {
				if st.Unknown == 0 {
					t.Errorf("no unknown-type event delivered: %+v", st)
				}
			}},
	}
	for _, tr := range transports {
		for _, f := range faults {
			t.Run(string(tr)+"/"+f.name, func(t *testing.T) {
				t.Parallel()
				opts := append([]firehosetest.Option{
					firehosetest.WithHistory(600, time.Minute),
					firehosetest.WithScript(f.script...),
				}, f.opts...)
				srv := firehosetest.NewServer(opts...)
				defer srv.Close()
				want := srv.Log().Events(4, 9)
				c := newClient(t, srv, tr,
					firehose.WithPartitions(4, 9),
					firehose.WithStart(want[0].Emit.Add(-time.Minute)),
					firehose.WithMaxEventSize(32<<10))
				s := openStream(t, c)
				collect(t, s, want)
				st := s.Stats()
				if f.check != nil {
					f.check(t, st, srv)
				}
				if err := s.Close(); err != nil {
					t.Fatal(err)
				}
			})
		}
	}
}

func repeatConn(n int, c firehosetest.Conn) []firehosetest.Conn {
	out := make([]firehosetest.Conn, n)
	for i := range out {
		out[i] = c
	}
	return out
}

func atLeastReconnects(n int64) func(*testing.T, firehose.Stats, *firehosetest.Server) {
	return func(t *testing.T, st firehose.Stats, _ *firehosetest.Server) {
		if st.ReconnectTotal() < n {
			t.Errorf("reconnects = %v, want at least %d", st.Reconnects, n)
		}
	}
}

// TestFatalStatuses: 401, 403, 400 and 404 end the stream at once with a
// *StatusError that is ErrFatal, after exactly one attempt.
func TestFatalStatuses(t *testing.T) {
	for _, tr := range transports {
		for _, code := range []int{401, 403, 400, 404} {
			t.Run(fmt.Sprintf("%s/%d", tr, code), func(t *testing.T) {
				t.Parallel()
				srv := firehosetest.NewServer(firehosetest.WithScript(firehosetest.Conn{Status: code, Message: "nope"}))
				defer srv.Close()
				c := newClient(t, srv, tr)
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				s, err := c.Open(ctx)
				if err == nil {
					s.Close()
					t.Fatal("Open succeeded")
				}
				var se *firehose.StatusError
				if !errors.As(err, &se) || se.Code != code || !errors.Is(err, firehose.ErrFatal) {
					t.Fatalf("err = %v (%T), want fatal StatusError %d", err, err, code)
				}
				if got := len(srv.Requests()); got != 1 {
					t.Fatalf("%d attempts, want 1", got)
				}
			})
		}
	}
}

// TestWrongKey: the real 401 path, key checked by the server.
func TestWrongKey(t *testing.T) {
	for _, tr := range transports {
		t.Run(string(tr), func(t *testing.T) {
			t.Parallel()
			srv := firehosetest.NewServer()
			defer srv.Close()
			c := newClient(t, srv, tr, firehose.WithAPIKey("wrong-key-s3cr3t"))
			err := c.Run(context.Background(), func(context.Context, *firehose.Event) error { return nil })
			var se *firehose.StatusError
			if !errors.As(err, &se) || se.Code != 401 || !errors.Is(err, firehose.ErrFatal) {
				t.Fatalf("err = %v, want fatal 401", err)
			}
			if strings.Contains(err.Error(), "s3cr3t") {
				t.Fatalf("key in error: %v", err)
			}
		})
	}
}

// TestResumeFromWatermark: every reconnect asks for the watermark minus the
// margin, and replicaId is sent only when set.
func TestResumeFromWatermark(t *testing.T) {
	srv := firehosetest.NewServer(firehosetest.WithHistory(300, time.Minute),
		firehosetest.WithScript(firehosetest.Conn{After: 100, Action: firehosetest.Cut}))
	defer srv.Close()
	want := srv.Log().Events(1, 12)
	start := want[0].Emit.Add(-time.Minute)
	c := newClient(t, srv, firehose.TransportHTTP, firehose.WithStart(start), firehose.WithReplayMargin(3*time.Second))
	s := openStream(t, c)
	ctx := context.Background()
	var maxTS int64
	for i := 0; i < 100; i++ {
		ev, err := s.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		maxTS = max(maxTS, ev.Timestamp())
	}
	// The 101st Next finishes the 100th event, then reconnects.
	if _, err := s.Next(ctx); err != nil {
		t.Fatal(err)
	}
	reqs := srv.Requests()
	if len(reqs) != 2 {
		t.Fatalf("%d requests, want 2", len(reqs))
	}
	if reqs[0].FromTimestamp != start.UnixMilli() {
		t.Errorf("first fromTimestamp = %d, want the start %d", reqs[0].FromTimestamp, start.UnixMilli())
	}
	if got, wantFrom := reqs[1].FromTimestamp, maxTS-3000; got != wantFrom {
		t.Errorf("resume fromTimestamp = %d, want watermark-margin %d", got, wantFrom)
	}
	for _, r := range reqs {
		if r.HasReplicaID {
			t.Errorf("replicaId sent without WithReplicaID: %+v", r)
		}
	}
	if st := s.Stats(); st.Watermark != maxTS {
		t.Errorf("watermark %d, want %d", st.Watermark, maxTS)
	}
}

func TestReplicaIDSentWhenSet(t *testing.T) {
	srv := firehosetest.NewServer(firehosetest.WithCloud(false), firehosetest.WithHistory(10, time.Second))
	defer srv.Close()
	c := newClient(t, srv, firehose.TransportHTTP, firehose.WithReplicaID(2), firehose.WithStart(time.Now().Add(-time.Minute)))
	s := openStream(t, c)
	if _, err := s.Next(context.Background()); err != nil {
		t.Fatal(err)
	}
	r := srv.Requests()[0]
	if !r.HasReplicaID || r.ReplicaID != 2 {
		t.Fatalf("request %+v, want replicaId 2", r)
	}
}

// TestKeyNeverPrinted: not in fmt output of the client, not in errors, not
// in logs, on any transport.
func TestKeyNeverPrinted(t *testing.T) {
	const k = "sk-very-secret-key"
	for _, tr := range transports {
		t.Run(string(tr), func(t *testing.T) {
			var logs bytes.Buffer
			var hooked []string
			srv := firehosetest.NewServer(firehosetest.WithScript(firehosetest.Conn{Status: 500}, firehosetest.Conn{Status: 401}))
			defer srv.Close()
			c := newClient(t, srv, tr, firehose.WithAPIKey(k),
				firehose.WithLogger(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))),
				firehose.WithErrorHook(func(err error) { hooked = append(hooked, fmt.Sprintf("%v %+v %#v", err, err, err)) }))
			_, err := c.Open(context.Background())
			if err == nil {
				t.Fatal("want 401")
			}
			out := []string{fmt.Sprint(c), fmt.Sprintf("%+v", c), fmt.Sprintf("%#v", c), err.Error(), fmt.Sprintf("%+v %#v", err, err), logs.String(), fmt.Sprintf("%+v", c.Stats())}
			for _, s := range append(out, hooked...) {
				if strings.Contains(s, k) {
					t.Fatalf("key printed: %s", s)
				}
			}
			if logs.Len() == 0 || len(hooked) == 0 {
				t.Fatal("nothing logged or hooked")
			}
		})
	}
}

func TestBadOptions(t *testing.T) {
	cases := map[string][]firehose.Option{
		"nil option":          {nil},
		"http client timeout": {firehose.WithHTTPClient(&http.Client{Timeout: time.Second})},
		"partitions":          {firehose.WithPartitions(0, 12)},
		"partitions reversed": {firehose.WithPartitions(7, 3)},
		"receiver":            {firehose.WithReceiver(4, 4)},
		"scheme":              {firehose.WithEndpoint("ftp://x")},
		"no host":             {firehose.WithEndpoint("https://")},
		"creds in url":        {firehose.WithEndpoint("https://u:p@x")},
		"region":              {firehose.WithRegion("us")},
		"transport":           {firehose.WithTransport("smtp")},
		"dedupe":              {firehose.WithDedupeCapacity(0)},
		"margin > window":     {firehose.WithReplayMargin(time.Hour)},
		"idle":                {firehose.WithIdleTimeout(0)},
		"max event":           {firehose.WithMaxEventSize(10)},
		"backoff":             {firehose.WithBackoff(time.Second, time.Millisecond)},
		"key newline":         {firehose.WithAPIKey("a\nb")},
		"key control char":    {firehose.WithAPIKey("abc\x01def")},
		"key non-ASCII":       {firehose.WithAPIKey("clé-secrète")},
		"key empty":           {firehose.WithAPIKey("")},
		"no key":              {},
		"key and no key":      {firehose.WithAPIKey("k"), firehose.WithoutAPIKey()},
		"region and endpoint": {firehose.WithRegion(firehose.RegionEurope), firehose.WithEndpoint("https://x.test")},
		"endpoint and region": {firehose.WithEndpoint("https://x.test"), firehose.WithRegion(firehose.RegionEurope)},
		"receiver and range":  {firehose.WithReceiver(0, 4), firehose.WithPartitions(1, 3)},
		"range and receiver":  {firehose.WithPartitions(1, 3), firehose.WithReceiver(0, 4)},
		"http client for ws":  {firehose.WithTransport(firehose.TransportWebSocket), firehose.WithHTTPClient(&http.Client{})},
	}
	for name, opts := range cases {
		t.Run(name, func(t *testing.T) {
			if c, err := firehose.New(opts...); err == nil {
				t.Fatalf("New accepted it: %v", c)
			}
		})
	}
	for name, opts := range map[string][]firehose.Option{
		"defaults with a key": {firehose.WithAPIKey("k")},
		"no key, said so":     {firehose.WithoutAPIKey()},
		"endpoint twice":      {firehose.WithAPIKey("k"), firehose.WithEndpoint("https://a.test"), firehose.WithEndpoint("https://b.test")},
	} {
		if _, err := firehose.New(opts...); err != nil {
			t.Fatalf("%s rejected: %v", name, err)
		}
	}
}

// TestCloseUnblocksNext: Close interrupts a Next waiting on a silent server,
// is idempotent, and Next then reports ErrClosed.
func TestCloseUnblocksNext(t *testing.T) {
	srv := firehosetest.NewServer(firehosetest.WithScript(firehosetest.Conn{Action: firehosetest.Stall}))
	defer srv.Close()
	c := newClient(t, srv, firehose.TransportHTTP, firehose.WithIdleTimeout(time.Hour))
	s := openStream(t, c)
	done := make(chan error, 1)
	go func() {
		_, err := s.Next(context.Background())
		done <- err
	}()
	// Close may run before or after Next starts waiting; both must end it.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; !errors.Is(err, firehose.ErrClosed) {
		t.Fatalf("Next after Close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

// TestNextContextCancel: a cancelled Next loses nothing; the next call replays.
func TestNextContextCancel(t *testing.T) {
	srv := firehosetest.NewServer(firehosetest.WithHistory(50, 10*time.Second), firehosetest.WithRate(0))
	defer srv.Close()
	want := srv.Log().Events(1, 12)
	c := newClient(t, srv, firehose.TransportHTTP, firehose.WithStart(want[0].Emit.Add(-time.Minute)), firehose.WithIdleTimeout(time.Hour))
	s := openStream(t, c)
	got := 0
	for got < len(want) {
		if _, err := s.Next(context.Background()); err != nil {
			t.Fatal(err)
		}
		got++
	}
	ctx, cancel := context.WithCancel(context.Background())
	go cancel()
	if _, err := s.Next(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Next with a cancelled ctx: %v", err)
	}
	if st := s.Stats(); st.Events != int64(len(want)) {
		t.Fatalf("events %d, want %d", st.Events, len(want))
	}
}

// TestContinuityIsVisible: every connection reports where it resumed from,
// why the previous one ended and how long the gap was.
func TestContinuityIsVisible(t *testing.T) {
	srv := firehosetest.NewServer(firehosetest.WithHistory(200, time.Minute),
		firehosetest.WithScript(firehosetest.Conn{After: 50, Action: firehosetest.CutMidLine}))
	defer srv.Close()
	want := srv.Log().Events(1, 12)
	var infos []firehose.ConnectInfo
	c := newClient(t, srv, firehose.TransportHTTP, firehose.WithStart(want[0].Emit.Add(-time.Minute)),
		firehose.WithConnectHook(func(ci firehose.ConnectInfo) { infos = append(infos, ci) }))
	s := openStream(t, c)
	collect(t, s, want)
	if len(infos) != 2 {
		t.Fatalf("%d connect reports, want 2: %+v", len(infos), infos)
	}
	first, second := infos[0], infos[1]
	if first.Reconnect || first.Cause != nil || first.From != want[0].Emit.Add(-time.Minute).UnixMilli() {
		t.Errorf("first connection: %+v", first)
	}
	if !second.Reconnect || second.Cause == nil || second.Downtime <= 0 || second.From != srv.Requests()[1].FromTimestamp {
		t.Errorf("reconnect: %+v", second)
	}
	if st := s.Stats(); st.ResumedAt != second.From || st.Downtime != second.Downtime || st.Torn != 1 {
		t.Errorf("stats %+v do not show the reconnect %+v", st, second)
	}
}
