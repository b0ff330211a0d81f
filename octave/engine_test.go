package octave_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/firehose-go/firehose"
	"github.com/firehose-go/firehose/octave"
	"github.com/firehose-go/firehose/octave/octavetest"
)

const (
	pathA = "/test-co/a"
	pathB = "/test-co/b"
)

func twoStreams(cap int) []octavetest.Option {
	return []octavetest.Option{octavetest.WithStream(pathA, cap), octavetest.WithStream(pathB, cap)}
}

// Within one connection nothing is lost, and each event comes out with its stream (named by id
// or by path) as type, its creationDate as timestamp and its object as raw bytes.
func TestDeliversEveryEventOnce(t *testing.T) {
	t.Parallel()
	h := newHarness(t, twoStreams(-1))
	idA := h.srv.Streams()[0].ID
	if err := h.streams.Subscribe(idA); err != nil {
		t.Fatal(err)
	}
	h.streams.Subscribe(pathB)
	stop, _ := h.run(h.config())
	eventually(t, 5*time.Second, "both subscriptions", func() bool { return acked(h.srv, 1, idA, pathB) })
	var evs []octavetest.Event
	for range 20 {
		evs = append(evs, publish(t, h.srv, idA, 5)...)
		evs = append(evs, publish(t, h.srv, pathB, 5)...)
	}
	h.waitDelivered(evs)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	h.checkOnce(evs, map[string]string{idA: idA, h.srv.Streams()[1].ID: pathB})
	if n := len(h.srv.Sessions()); n != 1 {
		t.Fatalf("%d sessions for one connection", n)
	}
}

// Faults that end a connection: every event created after the first subscription comes out
// exactly once, every subscription is back after each reconnect, and no session id is used twice.
func TestReconnectsLoseNothingRepeatNothing(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		script []octavetest.Conn
		opts   []octavetest.Option
	}{
		{"dropped TCP", []octavetest.Conn{{After: 30, Action: octavetest.Drop}, {After: 40, Action: octavetest.Drop}}, nil},
		{"close codes", []octavetest.Conn{
			{After: 20, Action: octavetest.Close, CloseCode: 1000},
			{After: 20, Action: octavetest.Close, CloseCode: 1001, Reason: "going away"},
			{After: 20, Action: octavetest.Close, CloseCode: 1011},
			{After: 20, Action: octavetest.Close, CloseCode: 4000, Reason: "custom"},
		}, nil},
		{"expired sessions", []octavetest.Conn{{After: 25, Action: octavetest.Drop}, {Expire: true}, {Expire: true}, {After: 25, Action: octavetest.Drop}}, nil},
		{"refused sessions", []octavetest.Conn{{After: 25, Action: octavetest.Drop}, {Status: 503}, {Status: 500}}, nil},
		{"duplicate pushes", []octavetest.Conn{{DuplicateEvery: 1, After: 30, Action: octavetest.Drop}, {DuplicateEvery: 3}}, nil},
		{"silent socket", []octavetest.Conn{{After: 25, Action: octavetest.Silence}}, nil},
		{"muted socket that still answers pings", []octavetest.Conn{{After: 25, Action: octavetest.Mute}}, nil},
		{"acks later than the timeout", []octavetest.Conn{{AckDelay: 3 * time.Second}}, nil},
		{"late acks", []octavetest.Conn{{AckDelay: 150 * time.Millisecond, After: 30, Action: octavetest.Drop}, {AckDelay: 100 * time.Millisecond}}, nil},
		{"tiny pages", []octavetest.Conn{{After: 30, Action: octavetest.Drop}, {After: 30, Action: octavetest.Drop}},
			[]octavetest.Option{octavetest.WithPageLimits(2, 2)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			opts := append(twoStreams(-1), octavetest.WithRate(400, pathA, pathB), octavetest.WithScript(tt.script...))
			h := newHarness(t, append(opts, tt.opts...), pathA, pathB)
			start := time.Now()
			stop, done := h.run(h.config())
			// Past the script, then a healthy connection with both subscriptions acked.
			eventually(t, 10*time.Second, "the script's end", func() bool {
				return acked(h.srv, healthySession(tt.script), pathA, pathB)
			})
			time.Sleep(50 * time.Millisecond)
			cut := time.Now().UnixMilli()
			first := firstSubscribe(h.srv)
			var want []octavetest.Event
			for _, e := range h.srv.AllEvents() {
				if e.CreationDate >= first.UnixMilli() && e.CreationDate <= cut {
					want = append(want, e)
				}
			}
			h.waitDelivered(want)
			select {
			case <-done:
				t.Fatalf("Run ended: %v", stop())
			default:
			}
			if err := stop(); err != nil {
				t.Fatal(err)
			}
			h.checkOnce(want, map[string]string{h.srv.Streams()[0].ID: pathA, h.srv.Streams()[1].ID: pathB})
			for _, d := range h.delivered() {
				if d.ts < start.UnixMilli() {
					t.Fatalf("event %s of %d delivered, from before the run's first subscription (%d)", d.id, d.ts, start.UnixMilli())
				}
			}
			checkSessions(t, h.srv)
		})
	}
}

// healthySession is the number of the first session the script leaves open (1-based).
func healthySession(script []octavetest.Conn) int {
	for i, c := range script {
		if c.Action == octavetest.None && c.Status == 0 && !c.Expire {
			return i + 1
		}
	}
	return len(script) + 1
}

// firstSubscribe is when the server saw the run's first subscribe.
func firstSubscribe(srv *octavetest.Server) time.Time {
	for _, r := range srv.Requests() {
		if r.Type == "subscribe" {
			return r.Time
		}
	}
	return time.Time{}
}

// checkSessions: no id dialed twice or late (a refusal for "expired" is scripted, "used" never).
func checkSessions(t *testing.T, srv *octavetest.Server) {
	t.Helper()
	for _, d := range srv.Dials() {
		if d.Reason == "used" || d.Reason == "unknown" {
			t.Fatalf("dial %+v", d)
		}
	}
}

// A long outage on a small stream: gap-fill brings back what the stream still holds and reports
// the rest as a typed gap.
func TestEvictionIsATypedGap(t *testing.T) {
	t.Parallel()
	h := newHarness(t, []octavetest.Option{octavetest.WithStream(pathA, 10)}, pathA)
	stop, _ := h.run(h.config())
	eventually(t, 5*time.Second, "the subscription", func() bool { return acked(h.srv, 1, pathA) })
	before := publish(t, h.srv, pathA, 3)
	h.waitDelivered(before)

	h.srv.Kick(octavetest.Silence, 0, "") // the socket goes quiet until the idle timeout
	time.Sleep(2 * time.Millisecond)
	missed := publish(t, h.srv, pathA, 40) // 30 of them evicted before the client is back
	h.waitDelivered(missed[30:])
	eventually(t, 5*time.Second, "the gap report", func() bool { return len(gapErrors(h.hookErrors())) > 0 })
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	gaps := gapErrors(h.hookErrors())
	if len(gaps) != 1 {
		t.Fatalf("gaps %v", gaps)
	}
	checkEvictionGap(t, gaps[0], pathA, before[2].CreationDate, missed[30].CreationDate)
	h.checkOnce(append(before, missed[30:]...), nil)
}

// A subscribe refused with 404 is fatal for that stream only, and says why; when no stream is
// left, the run ends with a fatal error.
func TestRejected404IsFatalForTheStream(t *testing.T) {
	t.Parallel()
	h := newHarness(t, append(twoStreams(-1), octavetest.WithReject(octavetest.Reject{Stream: pathB, Status: 404})), pathA, pathB, "/test-co/nope")
	stop, done := h.run(h.config())
	eventually(t, 5*time.Second, "a's subscription", func() bool { return acked(h.srv, 1, pathA) })
	eventually(t, 5*time.Second, "b refused", func() bool { return h.streams.Err(pathB) != nil && h.streams.Err("/test-co/nope") != nil })
	var se *octave.SubscribeError
	if err := h.streams.Err(pathB); !errors.As(err, &se) || se.Status != 404 || !strings.Contains(err.Error(), octavetest.NotFoundMessage) {
		t.Fatalf("Err(b) = %v", err)
	}
	if names := h.streams.Names(); len(names) != 1 || names[0] != pathA {
		t.Fatalf("streams left %v", names)
	}
	evs := publish(t, h.srv, pathA, 10)
	h.waitDelivered(evs)
	select {
	case <-done:
		t.Fatal("Run ended with a stream left")
	default:
	}
	stop()

	// Nothing left: fatal.
	h2 := newHarness(t, []octavetest.Option{octavetest.WithStream(pathA, -1)}, "/test-co/nope")
	stop2, done2 := h2.run(h2.config())
	select {
	case <-done2:
	case <-time.After(5 * time.Second):
		t.Fatal("Run goes on without a stream")
	}
	if err := stop2(); !errors.Is(err, firehose.ErrFatal) || !errors.As(err, &se) {
		t.Fatalf("Run: %v", err)
	}
}

// A subscribe refused with 500 is retried with backoff; what was published meanwhile is
// gap-filled once the subscribe is acked.
func TestRejected500IsRetried(t *testing.T) {
	t.Parallel()
	h := newHarness(t, append(twoStreams(-1),
		octavetest.WithReject(octavetest.Reject{Stream: pathB, Status: 500, After: 1, Times: 3}),
		octavetest.WithScript(octavetest.Conn{After: 5, Action: octavetest.Drop})), pathA, pathB)
	stop, _ := h.run(h.config())
	eventually(t, 5*time.Second, "both subscriptions", func() bool { return acked(h.srv, 1, pathA, pathB) })
	evs := publish(t, h.srv, pathA, 5) // the drop
	var during []octavetest.Event
	eventually(t, 5*time.Second, "b's refusals", func() bool {
		during = append(during, publish(t, h.srv, pathB, 1)...)
		time.Sleep(5 * time.Millisecond)
		return acked(h.srv, 2, pathB)
	})
	after := publish(t, h.srv, pathB, 5)
	all := append(append(evs, during...), after...)
	h.waitDelivered(all)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	h.checkOnce(all, nil)
	refused := 0
	for _, r := range h.srv.Requests() {
		if r.Status == 500 {
			refused++
		}
	}
	if refused != 3 {
		t.Fatalf("%d refusals, want 3", refused)
	}
}

// Bad credentials end the run with a fatal error naming the status and the server's message,
// after exactly two session attempts, within seconds; the token appears nowhere.
func TestBadCredentialsAreFatal(t *testing.T) {
	t.Parallel()
	for _, status := range []int{400, 401, 403} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, []octavetest.Option{octavetest.WithStream(pathA, -1), octavetest.WithAuthStatus(status)}, pathA)
			cfg := h.config()
			cfg.Token = "wrong-secret-token"
			start := time.Now()
			stop, done := h.run(cfg)
			select {
			case <-done:
			case <-time.After(5 * time.Second):
				t.Fatal("Run goes on with bad credentials")
			}
			err := stop()
			if !errors.Is(err, firehose.ErrFatal) || !strings.Contains(err.Error(), fmt.Sprint(status)) || !strings.Contains(err.Error(), "Invalid credentials") {
				t.Fatalf("Run: %v", err)
			}
			if strings.Contains(err.Error(), cfg.Token) {
				t.Fatalf("token in %v", err)
			}
			if n := len(h.srv.Sessions()); n != 2 {
				t.Fatalf("%d session attempts, want 2", n)
			}
			if d := time.Since(start); d > 3*time.Second {
				t.Fatalf("took %v", d)
			}
		})
	}
}

// Heartbeats go out every interval, so a server that closes heartbeat-less sockets keeps ours.
func TestHeartbeats(t *testing.T) {
	t.Parallel()
	h := newHarness(t, []octavetest.Option{octavetest.WithStream(pathA, -1), octavetest.WithHeartbeatTimeout(400 * time.Millisecond)}, pathA)
	stop, _ := h.run(h.config())
	eventually(t, 5*time.Second, "heartbeats", func() bool { return h.srv.Heartbeats() >= 10 })
	eventually(t, 5*time.Second, "probes answered", func() bool { return h.stats().KeepAlives >= 1 })
	evs := publish(t, h.srv, pathA, 3)
	h.waitDelivered(evs)
	stop()
	if n := len(h.srv.Sessions()); n != 1 {
		t.Fatalf("%d sessions: the socket was closed", n)
	}

	// Without heartbeats the same server closes the socket; the consumer reconnects.
	h2 := newHarness(t, []octavetest.Option{octavetest.WithStream(pathA, -1), octavetest.WithHeartbeatTimeout(50 * time.Millisecond)}, pathA)
	cfg := h2.config()
	cfg.Heartbeat = -1
	stop2, _ := h2.run(cfg)
	eventually(t, 5*time.Second, "a reconnect", func() bool { return len(h2.srv.Sessions()) >= 2 })
	stop2()
}

// Subscribe and Unsubscribe take effect on the running socket.
func TestSubscribeWhileRunning(t *testing.T) {
	t.Parallel()
	h := newHarness(t, twoStreams(-1), pathA)
	stop, _ := h.run(h.config())
	eventually(t, 5*time.Second, "a's subscription", func() bool { return acked(h.srv, 1, pathA) })
	a1 := publish(t, h.srv, pathA, 3)
	h.waitDelivered(a1)
	if err := h.streams.Subscribe(pathB); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "b's subscription", func() bool { return acked(h.srv, 1, pathB) })
	b1 := publish(t, h.srv, pathB, 3)
	h.waitDelivered(b1)
	h.streams.Unsubscribe(pathA)
	eventually(t, 5*time.Second, "a's unsubscribe", func() bool {
		for _, r := range h.srv.Requests() {
			if r.Type == "unsubscribe" && r.Path == pathA && r.OK {
				return true
			}
		}
		return false
	})
	publish(t, h.srv, pathA, 3)
	b2 := publish(t, h.srv, pathB, 3)
	h.waitDelivered(b2)
	stop()
	h.checkOnce(append(append(a1, b1...), b2...), nil)
	for _, d := range h.delivered() {
		if d.typ == pathA && d.ts > a1[2].CreationDate {
			t.Fatalf("a's event %s delivered after the unsubscribe", d.id)
		}
	}
	if n := len(h.srv.Sessions()); n != 1 {
		t.Fatalf("%d sessions", n)
	}
}

// A restarted consumer with a checkpoint gap-fills each stream from where it stopped: what was
// published while it was down comes out, and nothing comes out twice across the two runs.
func TestCheckpointRestart(t *testing.T) {
	t.Parallel()
	h := newHarness(t, append(twoStreams(-1), octavetest.WithPageLimits(3, 3)), pathA, pathB)
	cp := firehose.NewFileCheckpointer(t.TempDir() + "/cp")
	opts := []firehose.Option{firehose.WithCheckpointer(cp), firehose.WithCheckpointInterval(10 * time.Millisecond)}
	stop, _ := h.run(h.config(), opts...)
	eventually(t, 5*time.Second, "subscriptions", func() bool { return acked(h.srv, 1, pathA, pathB) })
	first := append(publish(t, h.srv, pathA, 10), publish(t, h.srv, pathB, 10)...)
	h.waitDelivered(first)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	down := append(publish(t, h.srv, pathA, 15), publish(t, h.srv, pathB, 15)...)

	stop2, _ := h.run(h.config(), opts...)
	h.waitDelivered(down)
	after := publish(t, h.srv, pathA, 5)
	h.waitDelivered(after)
	if err := stop2(); err != nil {
		t.Fatal(err)
	}
	h.checkOnce(append(append(first, down...), after...), nil)
	if len(h.delivered()) != len(first)+len(down)+len(after) {
		t.Fatalf("%d delivered, want %d", len(h.delivered()), len(first)+len(down)+len(after))
	}
}

// A configuration without credentials or streams is refused before any I/O.
func TestConfigValidation(t *testing.T) {
	t.Parallel()
	st, _ := octave.NewStreams(pathA)
	for _, cfg := range []octave.Config{
		{Token: "t", Streams: st},
		{Company: "c", Streams: st},
		{Company: "c", Token: "t"},
		{Company: "c", Token: "t", Streams: st, Endpoint: "ftp://x"},
		{Company: "c", Token: "t", Streams: st, PageSize: 1},
	} {
		if _, err := octave.Spec(cfg); err == nil {
			t.Errorf("Spec(%v) accepted", cfg)
		}
	}
	cfg := octave.Config{Company: "c", User: "u", Token: "very-secret", Streams: st}
	for _, s := range []string{fmt.Sprint(cfg), fmt.Sprintf("%+v", cfg), fmt.Sprintf("%#v", cfg)} {
		if strings.Contains(s, "very-secret") {
			t.Fatalf("token printed: %s", s)
		}
	}
	if _, err := octave.NewStreams(""); err == nil {
		t.Error("empty stream name accepted")
	}
	// Through Source, New says what is wrong, as for any bad option.
	if _, err := firehose.New(octave.Source(octave.Config{Token: "t", Streams: st})); err == nil || !strings.Contains(err.Error(), "Config.Company is empty") {
		t.Fatalf("New: %v", err)
	}
}

// Unknown frames are ignored, malformed and oversized ones counted; none ends the connection or
// loses an event.
func TestOddFrames(t *testing.T) {
	t.Parallel()
	h := newHarness(t, []octavetest.Option{octavetest.WithStream(pathA, -1)}, pathA)
	stop, _ := h.run(h.config(), firehose.WithMaxEventSize(4096))
	eventually(t, 5*time.Second, "the subscription", func() bool { return acked(h.srv, 1, pathA) })
	evs := publish(t, h.srv, pathA, 2)
	for _, raw := range []string{
		`{"type":"pong"}`,
		`not json`,
		`{"type":"message","resource":"s1","value":{"creationDate":1}}`,
		`{"head":{"msgId":"nobody-asked","ok":true}}`,
		`{"type":"message","value":{"id":"e1","creationDate":1.5}}`,
	} {
		h.srv.SendRaw([]byte(raw))
	}
	h.srv.SendRaw([]byte(`{"type":"message","value":{"id":"e2","creationDate":1,"elems":"` + strings.Repeat("x", 5000) + `"}}`))
	evs = append(evs, publish(t, h.srv, pathA, 2)...)
	h.waitDelivered(evs)
	eventually(t, 5*time.Second, "the malformed and oversized counts", func() bool {
		st := h.stats()
		return st.Malformed == 3 && st.Oversized == 1
	})
	stop()
	h.checkOnce(evs, nil)
	if n := len(h.srv.Sessions()); n != 1 {
		t.Fatalf("%d sessions", n)
	}
}

// Without gap-fill every re-subscription of a stream is reported as a gap of that stream.
func TestNoGapFillReportsEachReconnect(t *testing.T) {
	t.Parallel()
	h := newHarness(t, append(twoStreams(-1), octavetest.WithScript(octavetest.Conn{After: 4, Action: octavetest.Drop})), pathA, pathB)
	cfg := h.config()
	cfg.GapFill = false
	stop, _ := h.run(cfg)
	eventually(t, 5*time.Second, "the subscriptions", func() bool { return acked(h.srv, 1, pathA, pathB) })
	publish(t, h.srv, pathA, 5)
	eventually(t, 5*time.Second, "the resubscriptions", func() bool { return acked(h.srv, 2, pathA, pathB) })
	eventually(t, 5*time.Second, "two gaps", func() bool { return len(gapErrors(h.hookErrors())) == 2 })
	stop()
	streams := map[string]bool{}
	for _, g := range gapErrors(h.hookErrors()) {
		if g.Reason != firehose.GapNoReplay {
			t.Fatalf("gap %v", g)
		}
		streams[g.Stream] = true
	}
	if !streams[pathA] || !streams[pathB] {
		t.Fatalf("gaps for %v", streams)
	}
	for _, r := range h.srv.RESTRequests() {
		t.Fatalf("REST request without gap-fill: %+v", r)
	}
}

// REST trouble during a fill: retried, and the connection is replaced if it lasts; nothing lost.
func TestGapFillSurvivesRESTTrouble(t *testing.T) {
	t.Parallel()
	h := newHarness(t, []octavetest.Option{octavetest.WithStream(pathA, -1),
		octavetest.WithScript(octavetest.Conn{After: 5, Action: octavetest.Drop}),
		octavetest.WithRESTFailures(500, 503, 500, 502, 500)}, pathA)
	stop, _ := h.run(h.config())
	eventually(t, 5*time.Second, "the subscription", func() bool { return acked(h.srv, 1, pathA) })
	evs := publish(t, h.srv, pathA, 5) // the drop
	eventually(t, 5*time.Second, "the second session", func() bool { return len(h.srv.Sessions()) >= 2 })
	evs = append(evs, publish(t, h.srv, pathA, 20)...)
	h.waitDelivered(evs)
	stop()
	h.checkOnce(evs, nil)

	// A refusal that retrying cannot cure (403 on REST) is reported as a gap; live goes on.
	h2 := newHarness(t, []octavetest.Option{octavetest.WithStream(pathA, -1), octavetest.WithRESTFailures(403)}, pathA)
	stop2, _ := h2.run(h2.config())
	eventually(t, 5*time.Second, "the refused fill's gap", func() bool { return len(gapErrors(h2.hookErrors())) == 1 })
	if g := gapErrors(h2.hookErrors())[0]; g.Stream != pathA || !strings.Contains(g.Detail, "403") {
		t.Fatalf("gap %v", g)
	}
	evs = publish(t, h2.srv, pathA, 5)
	h2.waitDelivered(evs)
	stop2()
}

// A restricted token: no X-Auth-User, on the session host and on REST.
func TestRestrictedToken(t *testing.T) {
	t.Parallel()
	h := newHarness(t, []octavetest.Option{octavetest.WithCredentials("co", "", "restricted-token"), octavetest.WithStream("/co/a", -1),
		octavetest.WithScript(octavetest.Conn{After: 2, Action: octavetest.Drop})}, "/co/a")
	cfg := h.config()
	cfg.Company, cfg.User, cfg.Token = "co", "", "restricted-token"
	stop, _ := h.run(cfg)
	eventually(t, 5*time.Second, "the subscription", func() bool { return acked(h.srv, 1, "/co/a") })
	evs := publish(t, h.srv, "/co/a", 6)
	h.waitDelivered(evs)
	stop()
	h.checkOnce(evs, nil)
	for _, s := range h.srv.Sessions() {
		if s.HasUser || s.Status != 201 {
			t.Fatalf("session %+v", s)
		}
	}
	for _, r := range h.srv.RESTRequests() {
		if r.Status != 200 {
			t.Fatalf("REST %+v", r)
		}
	}
}

// Octave has no partitions: more than one receiver is refused.
func TestOneReceiverOnly(t *testing.T) {
	t.Parallel()
	h := newHarness(t, []octavetest.Option{octavetest.WithStream(pathA, -1)}, pathA)
	c, err := firehose.New(append(h.options(h.config()), firehose.WithReceivers(2))...)
	if err == nil {
		err = c.Run(t.Context(), func(context.Context, *firehose.Event) error { return nil })
	}
	if err == nil || !strings.Contains(err.Error(), "partitions") {
		t.Fatalf("two receivers: %v", err)
	}
}

// REST out of reach: live events still flow, the fill keeps being retried in the background.
func TestLiveGoesOnWithoutREST(t *testing.T) {
	t.Parallel()
	h := newHarness(t, []octavetest.Option{octavetest.WithStream(pathA, -1)}, pathA)
	dead := octavetest.NewServer()
	deadURL := dead.URL
	dead.Close() // nothing listens there any more
	cfg := h.config()
	cfg.REST = deadURL
	stop, done := h.run(cfg)
	eventually(t, 5*time.Second, "the subscription", func() bool { return acked(h.srv, 1, pathA) })
	evs := publish(t, h.srv, pathA, 10)
	h.waitDelivered(evs)
	select {
	case <-done:
		t.Fatalf("Run ended: %v", stop())
	default:
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	h.checkOnce(evs, nil)
	if n := len(h.srv.Sessions()); n != 1 {
		t.Fatalf("%d sessions: REST trouble replaced the connection", n)
	}
}

// A push without path, for a stream subscribed by path: attributed to the one path stream whose
// id is not known yet, not dropped.
func TestPushWithoutPath(t *testing.T) {
	t.Parallel()
	h := newHarness(t, twoStreams(-1), pathB)
	stop, _ := h.run(h.config())
	eventually(t, 5*time.Second, "the subscription", func() bool { return acked(h.srv, 1, pathB) })
	idB := h.srv.Streams()[1].ID
	raw := fmt.Sprintf(`{"type":"message","resource":%q,"value":{"id":"e00000000000000000000abcd","creationDate":%d}}`, idB, time.Now().UnixMilli())
	h.srv.SendRaw([]byte(raw))
	eventually(t, 5*time.Second, "the forged push", func() bool { return len(h.delivered()) == 1 })
	evs := publish(t, h.srv, pathB, 2)
	h.waitDelivered(evs)
	stop()
	for _, d := range h.delivered() {
		if d.typ != pathB {
			t.Fatalf("delivered %+v", d)
		}
	}
}
