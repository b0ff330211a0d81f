package callevents_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/firehose-go/firehose"
	"github.com/firehose-go/firehose/callevents"
	"github.com/firehose-go/firehose/callevents/calleventstest"
)

// These tests run the source through the real engine (firehose.New … Run) against the mock, with
// injected short durations: an idle timeout of a few hundred milliseconds, sub-second tokens.

const testIdle = 400 * time.Millisecond

// tokenPrefix begins every JWT the mock mints (its header): it must never show.
const tokenPrefix = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"

var (
	adminCfg = callevents.Config{Username: "admin", Password: "adminpassword", Domain: "master.test"}
	resCfg   = callevents.Config{Username: "reseller", Password: "resellerpassword", Domain: "reseller.test"}
)

// run is one client running against a mock, with everything it showed recorded.
type run struct {
	t      *testing.T
	srv    *calleventstest.Server
	client *firehose.Client
	cancel context.CancelFunc
	done   chan error

	logs *lockedBuffer

	mu     sync.Mutex
	events []delivered
	errs   []error // from the error hook
	gaps   []*firehose.GapError
	seen   chan struct{} // pinged on every event and hook call
}

type delivered struct {
	id, typ string
	ts      int64
	json    []byte
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// start points cfg at srv and runs a client until the test ends (or its stream ends).
func start(t *testing.T, srv *calleventstest.Server, cfg callevents.Config, opts ...firehose.Option) *run {
	t.Helper()
	r := &run{t: t, srv: srv, done: make(chan error, 1), logs: &lockedBuffer{}, seen: make(chan struct{}, 1)}
	cfg.BaseURL = srv.URL
	all := []firehose.Option{
		callevents.Source(cfg),
		firehose.WithIdleTimeout(testIdle),
		firehose.WithBackoff(20*time.Millisecond, 200*time.Millisecond),
		firehose.WithLogger(slog.New(slog.NewTextHandler(r.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))),
		firehose.WithErrorHook(func(err error) {
			r.mu.Lock()
			r.errs = append(r.errs, err)
			var ge *firehose.GapError
			if errors.As(err, &ge) {
				r.gaps = append(r.gaps, ge)
			}
			r.mu.Unlock()
			r.ping()
		}),
	}
	c, err := firehose.New(append(all, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	r.client = c
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	go func() {
		r.done <- c.Run(ctx, func(_ context.Context, ev *firehose.Event) error {
			r.mu.Lock()
			r.events = append(r.events, delivered{id: ev.ID(), typ: string(ev.Type()), ts: ev.Timestamp(), json: bytes.Clone(ev.JSON())})
			r.mu.Unlock()
			r.ping()
			return nil
		})
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-r.done:
		case <-time.After(10 * time.Second):
			t.Error("Run did not return after its context ended")
		}
		r.checkNoSecrets(cfg.Password)
	})
	return r
}

func (r *run) ping() {
	select {
	case r.seen <- struct{}{}:
	default:
	}
}

// waitUntil polls cond (on every event or hook call, and every 10 ms) until it holds or d passes.
func (r *run) waitUntil(d time.Duration, what string, cond func() bool) {
	r.t.Helper()
	deadline := time.After(d)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-r.seen:
		case <-tick.C:
		case <-deadline:
			r.t.Fatalf("after %v still waiting for %s", d, what)
		case err := <-r.done:
			r.t.Fatalf("the stream ended while waiting for %s: %v", what, err)
		}
	}
}

// connected waits until the server holds n open sockets.
func (r *run) connected(n int) {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := r.srv.WaitSockets(ctx, n); err != nil {
		r.t.Fatal(err)
	}
}

func (r *run) delivered() []delivered {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]delivered(nil), r.events...)
}

func (r *run) gapCount() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.gaps)
}

// waitEvents waits until n events were delivered.
func (r *run) waitEvents(n int, d time.Duration) []delivered {
	r.t.Helper()
	r.waitUntil(d, "events", func() bool { return len(r.delivered()) >= n })
	return r.delivered()
}

// ended waits for the stream to end and returns its error.
func (r *run) ended(d time.Duration) error {
	r.t.Helper()
	select {
	case err := <-r.done:
		r.done <- err // for the cleanup
		return err
	case <-time.After(d):
		r.t.Fatalf("the stream did not end within %v", d)
		return nil
	}
}

// checkNoSecrets fails the test if the password or a token shows in the logs, the hook's errors
// or Stats.
func (r *run) checkNoSecrets(password string) {
	r.t.Helper()
	r.mu.Lock()
	var shown strings.Builder
	for _, e := range r.errs {
		shown.WriteString(e.Error())
		shown.WriteByte('\n')
	}
	r.mu.Unlock()
	shown.WriteString(r.logs.String())
	shown.WriteString(r.client.Stats().LastError)
	for _, s := range []string{password, tokenPrefix} {
		if strings.Contains(shown.String(), s) {
			r.t.Errorf("%q shows in what the client reported:\n%s", s, shown.String())
		}
	}
}

// exactlyOnce checks that got holds every event of want once, and nothing else.
func exactlyOnce(t *testing.T, got []delivered, want []calleventstest.Event) {
	t.Helper()
	count := map[string]int{}
	for _, d := range got {
		count[string(d.json)]++
	}
	missing := 0
	for _, e := range want {
		switch n := count[string(e.Object)]; {
		case n == 0:
			missing++
			if missing <= 3 {
				t.Errorf("event %d (%s of %s) not delivered", e.Seq, e.Name, e.Account)
			}
		case n > 1:
			t.Errorf("event %d (%s) delivered %d times", e.Seq, e.Name, n)
		}
		delete(count, string(e.Object))
	}
	if missing > 0 {
		t.Errorf("%d of %d events missing", missing, len(want))
	}
	for obj, n := range count {
		t.Errorf("delivered %d times but not expected: %.200s", n, obj)
	}
}

func TestFiltersEveryEventOnce(t *testing.T) {
	t.Parallel()
	srv := calleventstest.NewServer(calleventstest.WithDuplicates(3), calleventstest.WithWrap(calleventstest.WrapBlackhole))
	defer srv.Close()
	cfg := resCfg
	cfg.Events = []string{callevents.ChannelAnswer, callevents.ChannelDestroy}
	r := start(t, srv, cfg)
	r.connected(1)

	inside := func(acct, name string) bool {
		return (acct == calleventstest.ResellerAccount || acct == calleventstest.CustomerAccount) &&
			(name == callevents.ChannelAnswer || name == callevents.ChannelDestroy)
	}
	var want []calleventstest.Event
	shapes := []calleventstest.Shape{calleventstest.ShapeKazoo, calleventstest.ShapeWebhook, calleventstest.ShapeFreeSWITCH}
	for i := range 90 {
		srv.SetShape(shapes[i%3])
		for _, acct := range []string{calleventstest.RootAccount, calleventstest.ResellerAccount, calleventstest.CustomerAccount, calleventstest.OtherAccount} {
			for _, name := range []string{callevents.ChannelCreate, callevents.ChannelAnswer, callevents.ChannelDestroy} {
				e := srv.Publish(acct, name, nil)
				if inside(acct, name) {
					want = append(want, e)
				}
			}
		}
	}
	got := r.waitEvents(len(want), 10*time.Second)
	time.Sleep(50 * time.Millisecond) // nothing more may come
	exactlyOnce(t, r.delivered(), want)
	for _, d := range got {
		if d.typ != callevents.ChannelAnswer && d.typ != callevents.ChannelDestroy {
			t.Errorf("type %q", d.typ)
		}
	}
	if st := r.client.Stats(); st.Duplicates == 0 {
		t.Errorf("no duplicates counted: %+v", st)
	}
	l := srv.Logins()
	if len(l) != 1 || l[0].Accounts != nil || strings.Join(l[0].Events, ",") != "CHANNEL_ANSWER,CHANNEL_DESTROY" {
		t.Errorf("logins %+v", l)
	}
	if c := srv.Connections(); len(c) != 1 || c[0].TokenIn != "header" {
		t.Errorf("connections %+v", c)
	}
}

// TestTokenExpiry: tokens live well under a second and the server closes every socket at its
// token's exp; events are published all along. The source logs in again before each exp, with the
// same filters, and moves to a fresh socket: every event comes out once, none is lost.
func TestTokenExpiry(t *testing.T) {
	t.Parallel()
	srv := calleventstest.NewServer(calleventstest.WithTokenTTL(900*time.Millisecond), calleventstest.WithSubSecondExpiry(),
		calleventstest.WithExpiryClose(4001))
	defer srv.Close()
	cfg := adminCfg
	cfg.Accounts = []string{calleventstest.ResellerAccount, calleventstest.CustomerAccount}
	cfg.Events = []string{callevents.ChannelAnswer}
	r := start(t, srv, cfg)
	r.connected(1)

	var want []calleventstest.Event
	stop := time.Now().Add(2500 * time.Millisecond)
	for time.Now().Before(stop) {
		e := srv.Publish(calleventstest.CustomerAccount, callevents.ChannelAnswer, nil)
		want = append(want, e)
		srv.Publish(calleventstest.OtherAccount, callevents.ChannelAnswer, nil) // outside
		time.Sleep(3 * time.Millisecond)
	}
	r.waitEvents(len(want), 5*time.Second)
	time.Sleep(50 * time.Millisecond)
	exactlyOnce(t, r.delivered(), want)

	logins := srv.Logins()
	if len(logins) < 4 {
		t.Errorf("%d logins in 2.5 s of 0.9 s tokens", len(logins))
	}
	for i, l := range logins {
		if l.Status != 200 || strings.Join(l.Accounts, ",") != calleventstest.ResellerAccount+","+calleventstest.CustomerAccount ||
			strings.Join(l.Events, ",") != callevents.ChannelAnswer {
			t.Errorf("login %d: %+v", i, l)
		}
	}
	if st := r.client.Stats(); st.ReconnectTotal() != 0 || st.Gaps != 0 {
		t.Errorf("the refresh cost reconnects or gaps: %+v", st)
	}
}

// TestExpiryWithoutRefresh: with a refresh margin too small to act in time (and a server that
// closes at exp), the socket ends, and the next connect logs in again with the same filters.
func TestExpiryWithoutRefresh(t *testing.T) {
	t.Parallel()
	srv := calleventstest.NewServer(calleventstest.WithTokenTTL(300*time.Millisecond), calleventstest.WithSubSecondExpiry(),
		calleventstest.WithExpiryClose(1008))
	defer srv.Close()
	cfg := adminCfg
	cfg.Events = []string{callevents.ChannelCreate}
	cfg.RefreshMargin = time.Nanosecond
	r := start(t, srv, cfg)
	r.waitUntil(5*time.Second, "three sockets", func() bool { return len(srv.Connections()) >= 3 })
	r.connected(1)
	e := srv.Publish(calleventstest.RootAccount, callevents.ChannelCreate, nil)
	r.waitEvents(1, 2*time.Second)
	exactlyOnce(t, r.delivered(), []calleventstest.Event{e})
	for i, c := range srv.Connections() {
		if c.Status != 101 {
			t.Errorf("connection %d refused: %+v (the token should be fresh)", i, c)
		}
	}
	for _, l := range srv.Logins() {
		if strings.Join(l.Events, ",") != callevents.ChannelCreate {
			t.Errorf("a login without the filter: %+v", l)
		}
	}
	r.waitUntil(2*time.Second, "a gap reported", func() bool { return r.gapCount() > 0 })
}

// TestUpgradeRefusedRelogin: the server forgets the token (a 401 at the next upgrade): the source
// logs in once more and goes on.
func TestUpgradeRefusedRelogin(t *testing.T) {
	t.Parallel()
	srv := calleventstest.NewServer()
	defer srv.Close()
	r := start(t, srv, adminCfg)
	r.connected(1)
	srv.RevokeTokens()
	srv.DropAll()
	r.waitUntil(5*time.Second, "a second socket", func() bool { return srv.OpenSockets() == 1 && len(srv.Connections()) == 3 })
	c := srv.Connections()
	if c[1].Status != 401 || c[2].Status != 101 || len(srv.Logins()) != 2 {
		t.Errorf("connections %+v, %d logins", c, len(srv.Logins()))
	}
	e := srv.Publish(calleventstest.CustomerAccount, callevents.ChannelHold, nil)
	r.waitEvents(1, 2*time.Second)
	exactlyOnce(t, r.delivered(), []calleventstest.Event{e})
}

// TestUpgradeAlwaysRefused: 401 at every upgrade: one fresh login, then the stream ends.
func TestUpgradeAlwaysRefused(t *testing.T) {
	t.Parallel()
	srv := calleventstest.NewServer()
	defer srv.Close()
	srv.FailConnects(100, 403)
	r := start(t, srv, adminCfg)
	err := r.ended(5 * time.Second)
	var se *firehose.StatusError
	if !errors.Is(err, firehose.ErrFatal) || !errors.As(err, &se) || se.Code != 403 {
		t.Fatalf("ended with %v", err)
	}
	if n, c := len(srv.Logins()), len(srv.Connections()); n != 2 || c != 2 {
		t.Errorf("%d logins, %d upgrades: want 2 and 2", n, c)
	}
}

func TestBadCredentialsFatal(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name    string
		cfg     callevents.Config
		code    int
		message string
		opts    []calleventstest.Option
	}{
		{"foreign account answered 422", callevents.Config{Username: "reseller", Password: "resellerpassword", Domain: "reseller.test",
			Accounts: []string{calleventstest.RootAccount}}, 422, "is not Reseller's", []calleventstest.Option{calleventstest.WithForeignAccountStatus(422)}},
		{"wrong password", callevents.Config{Username: "admin", Password: "not-the-password", Domain: "master.test"}, 401, "invalid credentials", nil},
		{"foreign account", callevents.Config{Username: "reseller", Password: "resellerpassword", Domain: "reseller.test",
			Accounts: []string{calleventstest.OtherAccount}}, 403, "account " + calleventstest.OtherAccount + " is not", nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			srv := calleventstest.NewServer(c.opts...)
			defer srv.Close()
			began := time.Now()
			r := start(t, srv, c.cfg)
			err := r.ended(5 * time.Second)
			var se *firehose.StatusError
			if !errors.Is(err, firehose.ErrFatal) || !errors.As(err, &se) || se.Code != c.code || !strings.Contains(err.Error(), c.message) {
				t.Fatalf("ended with %v", err)
			}
			if !strings.Contains(err.Error(), "login") || strings.Contains(err.Error(), c.cfg.Password) {
				t.Errorf("error %q", err)
			}
			if n := len(srv.Logins()); n != 2 {
				t.Errorf("%d logins, want exactly 2", n)
			}
			if d := time.Since(began); d > 3*time.Second {
				t.Errorf("took %v", d)
			}
		})
	}
}

// TestLogin5xxRetried: 503 at the first logins, then a normal stream.
func TestLogin5xxRetried(t *testing.T) {
	t.Parallel()
	srv := calleventstest.NewServer(calleventstest.WithLoginFailures(3, 503))
	defer srv.Close()
	r := start(t, srv, adminCfg)
	r.connected(1)
	e := srv.Publish(calleventstest.RootAccount, callevents.ParkParked, nil)
	r.waitEvents(1, 2*time.Second)
	exactlyOnce(t, r.delivered(), []calleventstest.Event{e})
	var st []int
	for _, l := range srv.Logins() {
		st = append(st, l.Status)
	}
	if len(st) != 4 || st[3] != 200 {
		t.Errorf("login statuses %v", st)
	}
}

// TestRefreshLogin5xx: a 503 on the refresh login is retried before exp; the stream goes on.
func TestRefreshLogin5xx(t *testing.T) {
	t.Parallel()
	srv := calleventstest.NewServer(calleventstest.WithTokenTTL(800*time.Millisecond), calleventstest.WithSubSecondExpiry())
	defer srv.Close()
	r := start(t, srv, adminCfg)
	r.connected(1)
	srv.FailLogins(1, 503)
	r.waitUntil(3*time.Second, "a refreshed login", func() bool { return len(srv.Logins()) >= 3 })
	e := srv.Publish(calleventstest.RootAccount, callevents.ChannelCreate, nil)
	r.waitEvents(1, 2*time.Second)
	exactlyOnce(t, r.delivered(), []calleventstest.Event{e})
	if l := srv.Logins(); l[1].Status != 503 || l[2].Status != 200 {
		t.Errorf("logins %+v", l)
	}
	if st := r.client.Stats(); st.ReconnectTotal() != 0 {
		t.Errorf("reconnects: %+v", st.Reconnects)
	}
}

// TestHalfOpen: the socket stops answering pings and carrying events; the source leaves it within
// the idle timeout and reconnects; the reconnect is reported as a gap.
func TestHalfOpen(t *testing.T) {
	t.Parallel()
	srv := calleventstest.NewServer()
	defer srv.Close()
	r := start(t, srv, adminCfg)
	r.connected(1)
	began := time.Now()
	srv.HalfOpenAll()
	r.waitUntil(3*time.Second, "a second socket", func() bool { return len(srv.Connections()) == 2 })
	if d := time.Since(began); d > testIdle+250*time.Millisecond { // the idle timeout, then a login and a dial
		t.Errorf("the half-open socket was left after %v; idle timeout %v", d, testIdle)
	}
	r.connected(1) // the half-open one is gone: the client closed it
	e := srv.Publish(calleventstest.RootAccount, callevents.ChannelAnswer, nil)
	r.waitEvents(1, 2*time.Second)
	exactlyOnce(t, r.delivered(), []calleventstest.Event{e})
	r.waitUntil(2*time.Second, "a no-replay gap", func() bool { return r.gapCount() == 1 })
	r.mu.Lock()
	g := r.gaps[0]
	r.mu.Unlock()
	if g.Reason != firehose.GapNoReplay || g.Downtime <= 0 {
		t.Errorf("gap %+v", g)
	}
}

// TestQuietNight: no event for many idle timeouts, pongs flowing: no reconnect.
func TestQuietNight(t *testing.T) {
	t.Parallel()
	srv := calleventstest.NewServer()
	defer srv.Close()
	r := start(t, srv, adminCfg)
	r.connected(1)
	time.Sleep(6 * testIdle)
	c := srv.Connections()
	if len(c) != 1 || c[0].Pongs < 6 {
		t.Errorf("connections %+v", c)
	}
	if st := r.client.Stats(); st.ReconnectTotal() != 0 {
		t.Errorf("reconnects %v", st.Reconnects)
	}
	e := srv.Publish(calleventstest.RootAccount, callevents.ChannelAnswer, nil)
	r.waitEvents(1, 2*time.Second)
	exactlyOnce(t, r.delivered(), []calleventstest.Event{e})
}

// TestDedupeAcrossReconnects: the server re-sends its last events to a new socket; they are not
// delivered twice.
func TestDedupeAcrossReconnects(t *testing.T) {
	t.Parallel()
	srv := calleventstest.NewServer(calleventstest.WithResendOnConnect(5), calleventstest.WithShape(calleventstest.ShapeFreeSWITCH))
	defer srv.Close()
	r := start(t, srv, adminCfg)
	r.connected(1)
	var want []calleventstest.Event
	for range 5 {
		want = append(want, srv.Publish(calleventstest.CustomerAccount, callevents.ChannelBridge, nil))
	}
	r.waitEvents(5, 2*time.Second)
	srv.DropAll()
	r.waitUntil(3*time.Second, "a second socket", func() bool { return len(srv.Connections()) == 2 })
	r.connected(1)
	want = append(want, srv.Publish(calleventstest.CustomerAccount, callevents.ChannelUnhold, nil))
	r.waitEvents(6, 2*time.Second)
	time.Sleep(50 * time.Millisecond)
	exactlyOnce(t, r.delivered(), want)
	if st := r.client.Stats(); st.Duplicates < 5 {
		t.Errorf("duplicates %d", st.Duplicates)
	}
}

func TestTokenInQuery(t *testing.T) {
	t.Parallel()
	srv := calleventstest.NewServer()
	defer srv.Close()
	cfg := adminCfg
	cfg.TokenInQuery = true
	r := start(t, srv, cfg)
	r.connected(1)
	if c := srv.Connections(); c[0].TokenIn != "query" {
		t.Errorf("token sent in the %q", c[0].TokenIn)
	}
}

func TestCustomCA(t *testing.T) {
	t.Parallel()
	srv := calleventstest.NewServer(calleventstest.WithTLS())
	defer srv.Close()
	cfg := adminCfg
	cfg.RootCAs = srv.CertPool()
	r := start(t, srv, cfg)
	r.connected(1)
	e := srv.Publish(calleventstest.RootAccount, callevents.ChannelAnswer, nil)
	r.waitEvents(1, 2*time.Second)
	exactlyOnce(t, r.delivered(), []calleventstest.Event{e})

	// Without the CA: fatal at once, no retry.
	untrusted := start(t, srv, adminCfg)
	err := untrusted.ended(5 * time.Second)
	if !errors.Is(err, firehose.ErrFatal) || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("ended with %v", err)
	}
}

func TestInvalidConfig(t *testing.T) {
	t.Parallel()
	for _, c := range []callevents.Config{
		{},
		{BaseURL: "ftp://x", Username: "u", Password: "p", Domain: "d"},
		{BaseURL: "https://user:pw@x", Username: "u", Password: "p", Domain: "d"},
		{BaseURL: "x", Username: "u", Password: "p", Domain: "d", PongWait: -1},
		{BaseURL: "x", Username: "u", Password: "p", Domain: "d", Events: []string{""}},
	} {
		if _, err := firehose.New(callevents.Source(c)); err == nil {
			t.Errorf("%v: no error", c)
		} else if strings.Contains(err.Error(), "pw") && c.Password != "" {
			t.Errorf("error shows a secret: %v", err)
		}
	}
	if _, err := firehose.New(callevents.Source(callevents.Config{BaseURL: "pbx.example.test", Username: "u", Password: "p", Domain: "d"})); err != nil {
		t.Errorf("a valid config: %v", err)
	}
}

// TestOddMessages: messages no shape describes. An unknown object is delivered raw; several values
// in one message are delivered one by one; bytes that are not JSON, and messages over the max
// event size, are counted and dropped; none of it ends the connection.
func TestOddMessages(t *testing.T) {
	t.Parallel()
	srv := calleventstest.NewServer()
	defer srv.Close()
	r := start(t, srv, adminCfg, firehose.WithMaxEventSize(2<<10))
	r.connected(1)
	srv.SendRaw([]byte(`{"kind":"unknown","n":1}`))
	srv.SendRaw([]byte("{\"Event-Name\":\"CHANNEL_CREATE\",\"Msg-ID\":\"m1\"}\n{\"Event-Name\":\"CHANNEL_ANSWER\",\"Msg-ID\":\"m2\"}\n{\"torn"))
	srv.SendRaw([]byte("garbage"))
	srv.SendRaw([]byte(`{"big":"` + strings.Repeat("x", 4<<10) + `"}`))
	srv.SendRaw([]byte("   "))
	srv.SendRaw([]byte(`[{"Event-Name":"CHANNEL_HOLD","Msg-ID":"m3"},7]`))
	e := srv.Publish(calleventstest.RootAccount, callevents.ChannelDestroy, nil)
	got := r.waitEvents(5, 3*time.Second)
	var types []string
	for _, d := range got {
		types = append(types, d.typ)
	}
	if strings.Join(types, ",") != ",CHANNEL_CREATE,CHANNEL_ANSWER,CHANNEL_HOLD,CHANNEL_DESTROY" {
		t.Errorf("types %q", types)
	}
	if string(got[0].json) != `{"kind":"unknown","n":1}` || !strings.HasPrefix(got[0].id, "h") || string(got[4].json) != string(e.Object) {
		t.Errorf("events %+v", got)
	}
	r.waitUntil(2*time.Second, "the drops counted", func() bool {
		st := r.client.Stats()
		return st.Malformed >= 3 && st.Oversized == 1
	})
	if st := r.client.Stats(); st.ReconnectTotal() != 0 {
		t.Errorf("reconnects %v", st.Reconnects)
	}
}

// TestTokenExpiryWholeSeconds: tokens with an exp in whole seconds (as the real ones), one second
// long, closed at exp: the refresh still leaves no gap.
func TestTokenExpiryWholeSeconds(t *testing.T) {
	t.Parallel()
	srv := calleventstest.NewServer(calleventstest.WithTokenTTL(time.Second), calleventstest.WithExpiryClose(4001))
	defer srv.Close()
	r := start(t, srv, adminCfg)
	r.connected(1)
	var want []calleventstest.Event
	for stop := time.Now().Add(2200 * time.Millisecond); time.Now().Before(stop); {
		want = append(want, srv.Publish(calleventstest.CustomerAccount, callevents.ChannelCreate, nil))
		time.Sleep(5 * time.Millisecond)
	}
	r.waitEvents(len(want), 5*time.Second)
	exactlyOnce(t, r.delivered(), want)
	if st := r.client.Stats(); st.ReconnectTotal() != 0 || len(srv.Logins()) < 2 {
		t.Errorf("reconnects %v, %d logins", st.Reconnects, len(srv.Logins()))
	}
}

// TestLoginWithoutToken: a login answered 200 without a token (an error in the body) is a refusal:
// one more attempt, then the end, with the server's words.
func TestLoginWithoutToken(t *testing.T) {
	t.Parallel()
	var logins atomic.Int32
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		logins.Add(1)
		w.Write([]byte(`{"status":"error","message":"user disabled"}`))
	}))
	defer ts.Close()
	cfg := adminCfg
	cfg.BaseURL = ts.URL
	c, err := firehose.New(callevents.Source(cfg), firehose.WithBackoff(10*time.Millisecond, 50*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err = c.Run(ctx, func(context.Context, *firehose.Event) error { return nil })
	if !errors.Is(err, firehose.ErrFatal) || !strings.Contains(err.Error(), "no access_token: user disabled") {
		t.Errorf("ended with %v", err)
	}
	if n := logins.Load(); n != 2 {
		t.Errorf("%d logins, want 2", n)
	}
}
