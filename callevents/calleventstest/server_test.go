package calleventstest

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

func TestLoginToken(t *testing.T) {
	t.Parallel()
	s := newServer(t, WithTokenTTL(90*time.Minute))
	before := time.Now()
	tok := mustToken(t, s, reseller.with([]string{CustomerAccount}, []string{ChannelAnswer}))
	if h := strings.Split(tok, ".")[0]; h != "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9" {
		t.Errorf("header %q, want the seed's HS256/JWT header", h)
	}
	c := claims(t, tok)
	if len(c) != 3 || c["identity"] != ResellerAccount+":Reseller" || c["type"] != "access" {
		t.Errorf("claims %v", c)
	}
	exp, err := c["exp"].(json.Number).Int64()
	if err != nil {
		t.Fatalf("exp %v is not whole seconds: %v", c["exp"], err)
	}
	if min, max := before.Add(90*time.Minute).Unix(), time.Now().Add(90*time.Minute).Unix()+1; exp < min || exp > max {
		t.Errorf("exp %d, want within [%d, %d]", exp, min, max)
	}
	ls := s.Logins()
	if len(ls) != 1 {
		t.Fatalf("%d logins recorded", len(ls))
	}
	l := ls[0]
	if l.Status != 200 || l.Username != "reseller" || l.Domain != "reseller.test" || l.Account != ResellerAccount ||
		!slices.Equal(l.Accounts, []string{CustomerAccount}) || !slices.Equal(l.Events, []string{ChannelAnswer}) ||
		l.Expiry.Unix() != exp {
		t.Errorf("login record %+v", l)
	}
}

func TestLoginSubSecondExpiry(t *testing.T) {
	t.Parallel()
	s := newServer(t, WithTokenTTL(250*time.Millisecond), WithSubSecondExpiry())
	before := time.Now()
	c := claims(t, mustToken(t, s, admin))
	f, err := c["exp"].(json.Number).Float64()
	if err != nil {
		t.Fatal(err)
	}
	exp := time.UnixMilli(int64(f * 1000))
	if d := exp.Sub(before); d < 240*time.Millisecond || d > 2*time.Second {
		t.Errorf("exp %v after the login, want about 250ms", d)
	}
}

func TestLoginRefusals(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	for _, c := range []struct {
		name   string
		body   any
		status int
		msg    string
	}{
		{"wrong password", creds{Username: "admin", Password: "nope", Domain: "master.test"}, 401, "invalid credentials"},
		{"unknown user", creds{Username: "eve", Password: "adminpassword", Domain: "master.test"}, 401, "invalid credentials"},
		{"wrong domain", creds{Username: "admin", Password: "adminpassword", Domain: "other.test"}, 401, "invalid credentials"},
		{"foreign account", reseller.with([]string{CustomerAccount, OtherAccount}, nil), 403, "account " + OtherAccount + " is not"},
		{"parent account", reseller.with([]string{RootAccount}, nil), 403, "is not"},
		{"not JSON", "{", 400, "invalid request body"},
		{"accounts not a list", `{"username":"admin","password":"adminpassword","domain":"master.test","accounts":"x"}`, 400, "invalid request body"},
	} {
		t.Run(c.name, func(t *testing.T) {
			a := login(t, s, c.body)
			if a.status != c.status || !strings.Contains(a.message, c.msg) || a.token != "" {
				t.Errorf("got %d %q token %q, want %d %q", a.status, a.message, a.token, c.status, c.msg)
			}
		})
	}
	// By name instead of realm, and the own account in the filter, are fine.
	mustToken(t, s, creds{Username: "admin", Password: "adminpassword", Domain: "Master"}.with([]string{RootAccount, OtherAccount}, nil))

	resp, err := s.Client().Get(s.URL + LoginPath)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET login: %d", resp.StatusCode)
	}
	for _, l := range s.Logins() {
		if strings.Contains(l.Message, "password") {
			t.Errorf("a record mentions a password: %+v", l)
		}
	}
}

func TestLoginForeignStatus(t *testing.T) {
	t.Parallel()
	s := newServer(t, WithForeignAccountStatus(400))
	if a := login(t, s, reseller.with([]string{OtherAccount}, nil)); a.status != 400 {
		t.Errorf("status %d, want 400", a.status)
	}
}

func TestLoginFailuresAndDelay(t *testing.T) {
	t.Parallel()
	s := newServer(t, WithLoginFailures(2, 503))
	for i := range 2 {
		if a := login(t, s, admin); a.status != 503 {
			t.Fatalf("login %d: %d", i, a.status)
		}
	}
	mustToken(t, s, admin)
	s.FailLogins(1, 500)
	if a := login(t, s, creds{Username: "admin", Password: "bad", Domain: "master.test"}); a.status != 500 {
		t.Errorf("a failing login answers before the credential check: got %d", a.status)
	}
	s.SetLoginDelay(150 * time.Millisecond)
	start := time.Now()
	mustToken(t, s, admin)
	if d := time.Since(start); d < 150*time.Millisecond {
		t.Errorf("a slow login took only %v", d)
	}
	var got []int
	for _, l := range s.Logins() {
		got = append(got, l.Status)
	}
	if want := []int{503, 503, 200, 500, 200}; !slices.Equal(got, want) {
		t.Errorf("statuses %v, want %v", got, want)
	}
}

func TestSlowLoginEndsWithClose(t *testing.T) {
	t.Parallel()
	s := NewServer(WithLoginDelay(time.Hour))
	done := make(chan struct{})
	go func() {
		defer close(done)
		resp, err := s.Client().Post(s.URL+LoginPath, "application/json", strings.NewReader(`{}`))
		if err == nil {
			resp.Body.Close()
		}
	}()
	for s.loginsInFlight.Load() == 0 { // wait until the login is being served: Close must end it
		time.Sleep(time.Millisecond)
	}
	s.Close()
	<-done
}

func TestUpgradeRefusals(t *testing.T) {
	t.Parallel()
	s := newServer(t, WithTokenTTL(time.Hour))
	good := mustToken(t, s, admin)
	other := NewServer(WithSigningKey("another key"))
	foreign := mustToken(t, other, admin)
	other.Close()
	expired := NewServer(WithTokenTTL(-time.Second))
	old := mustToken(t, expired, admin)
	expired.Close()
	parts := strings.Split(good, ".")
	for _, c := range []struct {
		name, token string
		inQuery     bool
		msg, in     string
	}{
		{"none", "", false, "missing token", ""},
		{"garbage", "abc", false, "invalid token", "header"},
		{"garbage in the query", "abc", true, "invalid token", "query"},
		{"another key", foreign, false, "invalid token", "header"},
		{"tampered", parts[0] + "." + parts[1] + "x." + parts[2], false, "invalid token", "header"},
		{"unsigned", parts[0] + "." + parts[1] + ".", false, "invalid token", "header"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, resp, err := dial(t, s, c.token, c.inQuery)
			if err == nil || resp == nil || resp.StatusCode != 401 {
				t.Fatalf("err %v, resp %v: want a 401", err, resp)
			}
		})
	}
	// A token signed with the right key but expired: the mock that signed it used the default key.
	s2 := newServer(t)
	if _, resp, err := dial(t, s2, old, false); err == nil || resp.StatusCode != 401 {
		t.Fatalf("expired token: err %v", err)
	}
	if c := s2.Connections(); len(c) != 1 || c[0].Message != "token expired" {
		t.Errorf("expired token recorded as %+v", c)
	}
	var msgs []string
	for _, c := range s.Connections() {
		msgs = append(msgs, c.TokenIn+":"+c.Message)
	}
	want := []string{":missing token", "header:invalid token", "query:invalid token", "header:invalid token", "header:invalid token", "header:invalid token"}
	if !slices.Equal(msgs, want) {
		t.Errorf("records %q, want %q", msgs, want)
	}

	// Not an upgrade.
	resp, err := s.Client().Get(s.URL + EventsPath)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 400 {
		t.Errorf("plain GET: %d", resp.StatusCode)
	}

	// Both ways work; revoked tokens do not.
	mustDial(t, s, good)
	if _, _, err := dial(t, s, good, true); err != nil {
		t.Fatalf("token in the query: %v", err)
	}
	s.RevokeTokens()
	if _, resp, err := dial(t, s, good, false); err == nil || resp.StatusCode != 401 {
		t.Fatalf("revoked token: %v", err)
	}
	s.FailConnects(1, 503)
	fresh := mustToken(t, s, admin)
	if _, resp, err := dial(t, s, fresh, false); err == nil || resp.StatusCode != 503 {
		t.Fatalf("FailConnects: %v", err)
	}
	mustDial(t, s, fresh)
}

// TestFilters opens sockets with different grants and checks each gets exactly its events.
func TestFilters(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	type sub struct {
		name string
		c    creds
		want func(acct, name string) bool
	}
	subs := []sub{
		{"root, no filter", admin, func(string, string) bool { return true }},
		{"reseller subtree", reseller, func(a, _ string) bool { return a == ResellerAccount || a == CustomerAccount }},
		{"reseller, answer and destroy", reseller.with(nil, []string{ChannelAnswer, ChannelDestroy}),
			func(a, n string) bool {
				return (a == ResellerAccount || a == CustomerAccount) && (n == ChannelAnswer || n == ChannelDestroy)
			}},
		{"root, other only", admin.with([]string{OtherAccount}, nil), func(a, _ string) bool { return a == OtherAccount }},
		{"root, customer answers", admin.with([]string{CustomerAccount}, []string{ChannelAnswer}),
			func(a, n string) bool { return a == CustomerAccount && n == ChannelAnswer }},
	}
	wss := make([]*websocket.Conn, len(subs))
	for i, sb := range subs {
		wss[i] = mustDial(t, s, mustToken(t, s, sb.c))
	}
	accts := []string{RootAccount, ResellerAccount, CustomerAccount, OtherAccount}
	names := []string{ChannelCreate, ChannelAnswer, ChannelBridge, ChannelDestroy, "CUSTOM"}
	for _, a := range accts {
		for _, n := range names {
			s.Publish(a, n, nil)
		}
	}
	s.Publish(RootAccount, "END", nil) // every unfiltered subscriber's last message
	for i, sb := range subs {
		var want []string
		for _, e := range s.Events() {
			if sb.want(e.Account, e.Name) && e.Name != "END" {
				want = append(want, string(e.Message))
			}
		}
		var got []string
		for len(got) < len(want) {
			b, err := read(wss[i], 2*time.Second)
			if err != nil {
				t.Fatalf("%s: after %d of %d events: %v", sb.name, len(got), len(want), err)
			}
			got = append(got, string(b))
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: got %d events, want %d", sb.name, len(got), len(want))
		}
		// nothing more, save END for the unfiltered ones
		if b, err := read(wss[i], 50*time.Millisecond); err == nil && !strings.Contains(string(b), `"END"`) {
			t.Errorf("%s: an extra event %s", sb.name, b)
		}
	}
	if n := s.Events()[10].Sockets; n != 2 {
		t.Errorf("the customer's CREATE went to %d sockets, want 2", n)
	}
}

func TestShapesAndWraps(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	ws := mustDial(t, s, mustToken(t, s, admin))
	type check struct {
		shape Shape
		keys  []string // keys the object must have
		id    string   // the key holding the call id
		name  string   // the key holding the event name, and its value
		value string
	}
	checks := []check{
		{ShapeKazoo, []string{"Event-Category", "Msg-ID", "Timestamp", "Custom-Channel-Vars", "Hangup-Cause", "Billing-Seconds"}, "Call-ID", "Event-Name", ChannelDestroy},
		{ShapeWebhook, []string{"account_id", "timestamp", "hangup_code", "duration_seconds", "custom_channel_vars"}, "call_id", "hook_event", "channel_destroy"},
		{ShapeFreeSWITCH, []string{"Core-UUID", "Event-Sequence", "Event-Date-Timestamp", "Event-Date-GMT", "Channel-Call-UUID"}, "Unique-ID", "Event-Name", ChannelDestroy},
	}
	for _, c := range checks {
		for _, w := range []Wrap{WrapNone, WrapBlackhole, WrapArgs} {
			s.SetShape(c.shape)
			s.SetWrap(w)
			e := s.Publish(CustomerAccount, ChannelDestroy, map[string]any{"X-Extra": 7})
			msg, err := read(ws, 2*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			if string(msg) != string(e.Message) {
				t.Fatalf("%v/%v: sent %s, recorded %s", c.shape, w, msg, e.Message)
			}
			var outer map[string]json.RawMessage
			if err := json.Unmarshal(msg, &outer); err != nil {
				t.Fatalf("%v/%v: %v", c.shape, w, err)
			}
			obj := msg
			switch w {
			case WrapBlackhole:
				obj = outer["data"]
				var rk, action string
				json.Unmarshal(outer["routing_key"], &rk)
				json.Unmarshal(outer["action"], &action)
				if action != "event" || rk != "call."+ChannelDestroy+"."+e.CallID {
					t.Errorf("%v/%v: action %q routing key %q", c.shape, w, action, rk)
				}
			case WrapArgs:
				obj = outer["args"]
			}
			if string(obj) != string(e.Object) {
				t.Errorf("%v/%v: the wrapped object differs from Event.Object", c.shape, w)
			}
			var m map[string]any
			if err := json.Unmarshal(obj, &m); err != nil {
				t.Fatal(err)
			}
			for _, k := range c.keys {
				if _, ok := m[k]; !ok {
					t.Errorf("%v: no %s in %s", c.shape, k, obj)
				}
			}
			if m[c.id] != e.CallID || m[c.name] != c.value || m["X-Extra"] != 7.0 {
				t.Errorf("%v: call id %v name %v extra %v", c.shape, m[c.id], m[c.name], m["X-Extra"])
			}
			if c.shape == ShapeFreeSWITCH {
				for k, v := range m {
					if _, ok := v.(string); !ok && k != "X-Extra" {
						t.Errorf("FreeSWITCH %s is %T, want a string", k, v)
					}
				}
			}
		}
	}
}

func TestKazooTimestamps(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	e1 := s.Publish(RootAccount, ChannelCreate, nil)
	e2 := s.Publish(RootAccount, ChannelCreate, nil)
	var m1, m2 struct {
		MsgID     string `json:"Msg-ID"`
		Timestamp int64
		CCV       struct {
			AccountID string `json:"Account-ID"`
		} `json:"Custom-Channel-Vars"`
	}
	json.Unmarshal(e1.Object, &m1)
	json.Unmarshal(e2.Object, &m2)
	if m1.MsgID >= m2.MsgID || len(m1.MsgID) != 16 {
		t.Errorf("Msg-IDs %q, %q: want 16 digits, increasing", m1.MsgID, m2.MsgID)
	}
	if unix := m1.Timestamp - gregorianOffset; unix < e1.Time.Unix()-1 || unix > e1.Time.Unix()+1 {
		t.Errorf("Timestamp %d is not Gregorian seconds of %v", m1.Timestamp, e1.Time)
	}
	if m1.CCV.AccountID != RootAccount {
		t.Errorf("Account-ID %q", m1.CCV.AccountID)
	}
	if e1.CallID == e2.CallID {
		t.Error("two publishes share a call id")
	}
}

func TestExpiryClose(t *testing.T) {
	t.Parallel()
	s := newServer(t, WithTokenTTL(300*time.Millisecond), WithSubSecondExpiry(), WithExpiryClose(4001))
	ws := mustDial(t, s, mustToken(t, s, admin))
	start := time.Now()
	_, err := read(ws, 3*time.Second)
	var ce *websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != 4001 || ce.Text != "token expired" {
		t.Fatalf("got %v, want close 4001", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("closed after %v", d)
	}
	ws.Close()
	waitEnded(t, s, 0, EndExpired)
}

func TestExpiryKeepOpen(t *testing.T) {
	t.Parallel()
	s := newServer(t, WithTokenTTL(100*time.Millisecond), WithSubSecondExpiry(), WithExpiryClose(0))
	ws := mustDial(t, s, mustToken(t, s, admin))
	time.Sleep(250 * time.Millisecond) // past exp
	s.Publish(RootAccount, ChannelAnswer, nil)
	if _, err := read(ws, 2*time.Second); err != nil {
		t.Fatalf("the socket did not outlive its token: %v", err)
	}
}

func TestDropAll(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	ws := mustDial(t, s, mustToken(t, s, admin))
	if n := s.DropAll(); n != 1 {
		t.Fatalf("dropped %d", n)
	}
	_, err := read(ws, 2*time.Second)
	var ce *websocket.CloseError
	if err == nil || errors.As(err, &ce) {
		t.Fatalf("got %v, want an abrupt end without a close frame", err)
	}
	waitEnded(t, s, 0, EndDropped)
}

func TestCloseAll(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	ws := mustDial(t, s, mustToken(t, s, admin))
	s.CloseAll(websocket.CloseGoingAway, strings.Repeat("r", 300))
	_, err := read(ws, 2*time.Second)
	var ce *websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != websocket.CloseGoingAway || len(ce.Text) != 123 {
		t.Fatalf("got %v", err)
	}
	ws.Close()
	waitEnded(t, s, 0, EndClosed)
}

func TestHalfOpen(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	ws := mustDial(t, s, mustToken(t, s, admin))
	pongs := make(chan struct{}, 10)
	ws.SetPongHandler(func(string) error { pongs <- struct{}{}; return nil })
	msgs := make(chan []byte, 10)
	readDone := make(chan error, 1)
	go func() {
		for {
			_, b, err := ws.ReadMessage()
			if err != nil {
				readDone <- err
				return
			}
			msgs <- b
		}
	}()
	ping := func() { ws.WriteControl(websocket.PingMessage, []byte("p"), time.Now().Add(time.Second)) }
	expect := func(ch <-chan struct{}, what string) {
		t.Helper()
		select {
		case <-ch:
		case <-time.After(2 * time.Second):
			t.Fatalf("no %s", what)
		}
	}

	ping()
	expect(pongs, "pong before half-open")
	s.Publish(RootAccount, ChannelAnswer, nil)
	select {
	case <-msgs:
	case <-time.After(2 * time.Second):
		t.Fatal("no event before half-open")
	}

	if n := s.HalfOpenAll(); n != 1 {
		t.Fatalf("half-opened %d", n)
	}
	ping()
	s.Publish(RootAccount, ChannelAnswer, nil)
	select {
	case <-pongs:
		t.Fatal("a pong on a half-open socket")
	case b := <-msgs:
		t.Fatalf("an event on a half-open socket: %s", b)
	case err := <-readDone:
		t.Fatalf("the half-open socket ended: %v", err)
	case <-time.After(300 * time.Millisecond):
	}
	if s.OpenSockets() != 1 {
		t.Fatal("the half-open socket is gone on the server")
	}
	ws.Close()
	<-readDone
	if err := s.WaitSockets(testContext(t), 0); err != nil {
		t.Fatal(err)
	}
	c := s.Connections()[0]
	if c.Pings != 2 || c.Pongs != 1 || c.Delivered != 1 || c.End != EndClient {
		t.Errorf("record %+v", c)
	}
}

func isTimeout(err error) bool {
	var ne interface{ Timeout() bool }
	return errors.As(err, &ne) && ne.Timeout()
}

func TestDuplicatesAndResend(t *testing.T) {
	t.Parallel()
	s := newServer(t, WithDuplicates(2), WithResendOnConnect(2))
	tok := mustToken(t, s, reseller)
	ws := mustDial(t, s, tok)
	e1 := s.Publish(ResellerAccount, ChannelCreate, nil)
	e2 := s.Publish(ResellerAccount, ChannelAnswer, nil)  // sent twice
	s.Publish(OtherAccount, ChannelAnswer, nil)           // outside
	e4 := s.Publish(CustomerAccount, ChannelDestroy, nil) // sent twice
	want := [][]byte{e1.Message, e2.Message, e2.Message, e4.Message, e4.Message}
	for i, w := range want {
		b, err := read(ws, 2*time.Second)
		if err != nil || string(b) != string(w) {
			t.Fatalf("message %d: %v %.80s", i, err, b)
		}
	}
	ws.Close()
	ws2 := mustDial(t, s, tok)
	for i, w := range [][]byte{e2.Message, e4.Message} { // the last two of its own
		b, err := read(ws2, 2*time.Second)
		if err != nil || string(b) != string(w) {
			t.Fatalf("resent %d: %v %.80s", i, err, b)
		}
	}
}

func TestRate(t *testing.T) {
	t.Parallel()
	s := newServer(t, WithRate(400))
	ws := mustDial(t, s, mustToken(t, s, admin))
	seen := map[string]bool{}
	for range 60 {
		b, err := read(ws, 2*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		var m struct {
			Name string `json:"Event-Name"`
		}
		json.Unmarshal(b, &m)
		seen[m.Name] = true
	}
	if !seen[ChannelCreate] || !seen[ChannelAnswer] || !seen[ChannelDestroy] {
		t.Errorf("names seen: %v", seen)
	}
}

func TestTLS(t *testing.T) {
	t.Parallel()
	s := newServer(t, WithTLS())
	if !strings.HasPrefix(s.URL, "https://") || !strings.HasPrefix(s.EventsURL(), "wss://") {
		t.Fatalf("URLs %s %s", s.URL, s.EventsURL())
	}
	ws := mustDial(t, s, mustToken(t, s, admin))
	s.Publish(RootAccount, ChannelCreate, nil)
	if _, err := read(ws, 2*time.Second); err != nil {
		t.Fatal(err)
	}
}

func TestCloseCutsSockets(t *testing.T) {
	t.Parallel()
	s := NewServer(WithRate(100))
	ws := mustDial(t, s, mustToken(t, s, admin))
	s.HalfOpenAll()
	ws2 := mustDial(t, s, mustToken(t, s, admin))
	s.Close()
	for _, w := range []*websocket.Conn{ws, ws2} {
		for {
			if _, err := read(w, 2*time.Second); err != nil {
				if isTimeout(err) {
					t.Fatal("a socket outlived Close")
				}
				break
			}
		}
	}
	if n := s.OpenSockets(); n != 0 {
		t.Errorf("%d sockets after Close", n)
	}
}

func waitEnded(t *testing.T, s *Server, i int, how string) {
	t.Helper()
	if err := s.WaitSockets(testContext(t), 0); err != nil {
		t.Fatal(err)
	}
	if c := s.Connections()[i]; c.End != how || c.Ended.IsZero() {
		t.Errorf("connection %d ended %q at %v, want %q", i, c.End, c.Ended, how)
	}
}

func TestSendRaw(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	ws := mustDial(t, s, mustToken(t, s, reseller.with(nil, []string{ChannelAnswer})))
	if n := s.SendRaw([]byte("not json")); n != 1 {
		t.Fatalf("sent to %d sockets", n)
	}
	if b, err := read(ws, 2*time.Second); err != nil || string(b) != "not json" {
		t.Fatalf("got %q, %v", b, err)
	}
	if len(s.Events()) != 0 {
		t.Error("a raw message was recorded as an event")
	}
}
