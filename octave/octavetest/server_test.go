package octavetest

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

func TestSessionCredentials(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		opts       []Option
		hdr        map[string]string
		wantStatus int
	}{
		{"master token", nil, goodHeaders(), 201},
		{"wrong token", nil, map[string]string{"X-Auth-Company": DefaultCompany, "X-Auth-User": DefaultUser, "X-Auth-Token": "nope"}, 400},
		{"wrong user", nil, map[string]string{"X-Auth-Company": DefaultCompany, "X-Auth-User": "eve", "X-Auth-Token": DefaultToken}, 400},
		{"no user with master token", nil, map[string]string{"X-Auth-Company": DefaultCompany, "X-Auth-Token": DefaultToken}, 400},
		{"wrong company", nil, map[string]string{"X-Auth-Company": "other", "X-Auth-User": DefaultUser, "X-Auth-Token": DefaultToken}, 400},
		{"no headers", nil, nil, 400},
		{"401", []Option{WithAuthStatus(401)}, map[string]string{"X-Auth-Token": "x"}, 401},
		{"403", []Option{WithAuthStatus(403)}, map[string]string{"X-Auth-Token": "x"}, 403},
		{"restricted token", []Option{WithCredentials("co", "", "rt")}, map[string]string{"X-Auth-Company": "co", "X-Auth-Token": "rt"}, 201},
		{"restricted token with a user", []Option{WithCredentials("co", "", "rt")}, map[string]string{"X-Auth-Company": "co", "X-Auth-User": "u", "X-Auth-Token": "rt"}, 400},
		{"scripted 503", []Option{WithScript(Conn{Status: 503})}, goodHeaders(), 503},
	}
	idShape := regexp.MustCompile(`^[A-Za-z0-9_-]{11}\.[A-Za-z0-9_-]{32}$`)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newServer(t, tt.opts...)
			st, env := post(t, s, tt.hdr)
			if st != tt.wantStatus || env.Head.Status != tt.wantStatus {
				t.Fatalf("status %d, head %+v; want %d", st, env.Head, tt.wantStatus)
			}
			if st == 201 {
				var body struct{ ID string }
				json.Unmarshal(env.Body, &body)
				if !env.Head.OK || !idShape.MatchString(body.ID) {
					t.Fatalf("bad success %+v %s", env.Head, env.Body)
				}
			} else if env.Head.OK || len(env.Head.Errors) == 0 {
				t.Fatalf("refusal without ok:false and errors: %+v", env.Head)
			}
			ss := s.Sessions()
			if len(ss) != 1 || ss[0].Status != tt.wantStatus {
				t.Fatalf("Sessions() = %+v", ss)
			}
		})
	}
}

func TestDialRefusals(t *testing.T) {
	t.Parallel()
	for _, refuse := range []int{404, 403} {
		t.Run(strconv.Itoa(refuse), func(t *testing.T) {
			t.Parallel()
			s := newServer(t, WithRefuseStatus(refuse), WithSessionExpiry(50*time.Millisecond),
				WithScript(Conn{}, Conn{Expire: true}))
			dialStatus := func(id string) int {
				ws, resp, err := websocket.DefaultDialer.Dial(wsURL(s, id), nil)
				if err == nil {
					ws.Close()
					return 101
				}
				if resp == nil {
					t.Fatal(err)
				}
				return resp.StatusCode
			}
			used := newSession(t, s)
			if st := dialStatus(used); st != 101 {
				t.Fatalf("fresh id: %d", st)
			}
			if st := dialStatus(used); st != refuse {
				t.Fatalf("used id: %d, want %d", st, refuse)
			}
			if st := dialStatus(newSession(t, s)); st != refuse {
				t.Fatalf("scripted expired id: %d", st)
			}
			late := newSession(t, s)
			time.Sleep(60 * time.Millisecond)
			if st := dialStatus(late); st != refuse {
				t.Fatalf("id past the window: %d", st)
			}
			if st := dialStatus("no.such-id"); st != refuse {
				t.Fatalf("unknown id: %d", st)
			}
			var reasons []string
			for _, d := range s.Dials() {
				reasons = append(reasons, d.Reason)
			}
			if got := strings.Join(reasons, ","); got != ",used,expired,expired,unknown" {
				t.Fatalf("dial reasons %q", got)
			}
		})
	}
}

func TestSubscribeAndPush(t *testing.T) {
	t.Parallel()
	s := newServer(t, WithStream("a", -1), WithStream("/test-co/b/c", -1))
	streams := s.Streams()
	a, b := streams[0], streams[1]
	if a.Path != "/test-co/a" || !regexp.MustCompile(`^s[0-9a-f]{24}$`).MatchString(a.ID) || a.Capacity != DefaultCapacity {
		t.Fatalf("stream %+v", a)
	}
	c := dial(t, s)
	m := c.subscribe("subscribe", a.ID)
	f := c.mustRead()
	want := `{"head":{"msgId":"` + m + `","ok":true,"errors":[],"messages":["Your request has been processed successfully."]},"body":{}}`
	if string(f.raw) != want {
		t.Fatalf("ack\n got %s\nwant %s", f.raw, want)
	}
	c.mustAck(c.subscribe("subscribe", b.Path))
	c.send(`{"type":"heartbeat"}`)

	// An unknown stream: 404 with flowthings' text.
	m = c.subscribe("subscribe", "s000000000000000000000000")
	f = c.mustRead()
	if f.Head == nil || f.Head.OK || f.Head.Status != 404 || f.Head.MsgID != m || len(f.Head.Errors) != 1 || f.Head.Errors[0] != NotFoundMessage {
		t.Fatalf("unknown stream: %s", f.raw)
	}
	// Malformed requests are answered, not fatal.
	c.send(`{"msgId":"x","object":"device","type":"subscribe","streamId":"` + a.ID + `"}`)
	if f = c.mustRead(); f.Head.OK || f.Head.Status != 400 {
		t.Fatalf("bad object: %s", f.raw)
	}
	c.send(`not json`)
	if f = c.mustRead(); f.Head.OK || f.Head.Status != 400 {
		t.Fatalf("not json: %s", f.raw)
	}

	evA := publish(t, s, a.ID, 2)
	evB := publish(t, s, b.Path, 1)
	for _, e := range append(evA, evB...) {
		f := c.mustRead()
		if f.Resource != e.StreamID || f.eventID(t) != e.ID || string(f.Value) != string(e.JSON()) {
			t.Fatalf("push %s, want event %s", f.raw, e.JSON())
		}
	}
	// Unsubscribe a: only b's events come.
	c.mustAck(c.subscribe("unsubscribe", a.ID))
	publish(t, s, a.ID, 1)
	evB = publish(t, s, b.ID, 1)
	if f := c.mustRead(); f.eventID(t) != evB[0].ID {
		t.Fatalf("after unsubscribe: %s", f.raw)
	}
	eventually(t, "the heartbeat", func() bool { return s.Heartbeats() == 1 })
	reqs := s.Requests()
	if len(reqs) != 6 || reqs[2].Status != 404 || reqs[5].Type != "unsubscribe" || !reqs[5].OK {
		t.Fatalf("Requests() = %+v", reqs)
	}
	eventually(t, "the session's record", func() bool {
		ss := s.Sessions()
		return ss[0].Pushes == 4 && ss[0].Messages == 7
	})
}

func TestEventShape(t *testing.T) {
	t.Parallel()
	s := newServer(t, WithStream("a", -1))
	e := publish(t, s, "/test-co/a", 1)[0]
	var v map[string]any
	if err := json.Unmarshal(e.JSON(), &v); err != nil {
		t.Fatal(err)
	}
	for _, k := range eventFields {
		if _, ok := v[k]; !ok {
			t.Errorf("member %s missing in %s", k, e.JSON())
		}
	}
	if !regexp.MustCompile(`^e[0-9a-f]{24}$`).MatchString(e.ID) {
		t.Fatalf("id %s", e.ID)
	}
	sec, _ := strconv.ParseInt(e.ID[1:9], 16, 64)
	if sec != e.CreationDate/1000 {
		t.Fatalf("id %s encodes second %d, creationDate %d", e.ID, sec, e.CreationDate)
	}
	evs := publish(t, s, "/test-co/a", 100)
	for i := 1; i < len(evs); i++ {
		if evs[i].CreationDate < evs[i-1].CreationDate || evs[i].ID == evs[i-1].ID {
			t.Fatalf("events %d and %d: %+v %+v", i-1, i, evs[i-1], evs[i])
		}
	}
	if _, err := s.Publish("nope", 1); err == nil {
		t.Fatal("Publish on an unknown stream succeeded")
	}
	if _, err := s.AddStream("a", 1); err == nil {
		t.Fatal("a stream was created twice")
	}
}

func TestReject(t *testing.T) {
	t.Parallel()
	s := newServer(t, WithStream("a", -1), WithStream("b", -1),
		WithReject(Reject{Stream: "/test-co/a", Status: 500, After: 1, Times: 1}),
		WithReject(Reject{Stream: "/test-co/b"}))
	c := dial(t, s)
	want := []struct {
		ref    string
		status int
	}{{"/test-co/a", 0}, {"/test-co/a", 500}, {"/test-co/a", 0}, {"/test-co/b", 404}, {"/test-co/b", 404}}
	for i, w := range want {
		m := c.subscribe("subscribe", w.ref)
		f := c.mustRead()
		if f.Head.MsgID != m || f.Head.OK != (w.status == 0) || f.Head.Status != w.status {
			t.Fatalf("subscribe %d: %s", i, f.raw)
		}
	}
}

func TestAckDelayLetsEventsFirst(t *testing.T) {
	t.Parallel()
	s := newServer(t, WithStream("a", -1), WithAckDelay(200*time.Millisecond))
	c := dial(t, s)
	m := c.subscribe("subscribe", "/test-co/a")
	eventually(t, "the subscription", func() bool { return len(s.Requests()) == 1 })
	e := publish(t, s, "/test-co/a", 1)[0]
	if f := c.mustRead(); f.Head != nil || f.eventID(t) != e.ID {
		t.Fatalf("first message %s, want the event", f.raw)
	}
	c.mustAck(m)
}

func TestSocketFaults(t *testing.T) {
	t.Parallel()
	type result struct {
		pushes int
		err    error
	}
	run := func(t *testing.T, cn Conn, publishN int, opts ...Option) result {
		s := newServer(t, append([]Option{WithStream("a", -1), WithScript(cn)}, opts...)...)
		c := dial(t, s)
		c.mustAck(c.subscribe("subscribe", "/test-co/a"))
		publish(t, s, "/test-co/a", publishN)
		var r result
		for {
			f, err := c.read()
			if err != nil {
				r.err = err
				return r
			}
			f.eventID(t)
			r.pushes++
		}
	}
	t.Run("drop", func(t *testing.T) {
		t.Parallel()
		r := run(t, Conn{After: 3, Action: Drop}, 10)
		if r.pushes != 3 || websocket.IsCloseError(r.err, websocket.CloseNormalClosure, websocket.CloseGoingAway, websocket.CloseInternalServerErr) {
			t.Fatalf("%d pushes then %v", r.pushes, r.err)
		}
	})
	t.Run("close code", func(t *testing.T) {
		t.Parallel()
		r := run(t, Conn{After: 2, Action: Close, CloseCode: 1011, Reason: "bye"}, 10)
		var ce *websocket.CloseError
		if r.pushes != 2 || !asCloseError(r.err, &ce) || ce.Code != 1011 || ce.Text != "bye" {
			t.Fatalf("%d pushes then %v", r.pushes, r.err)
		}
	})
	t.Run("duplicates", func(t *testing.T) {
		t.Parallel()
		r := run(t, Conn{DuplicateEvery: 2, After: 4, Action: Drop}, 10)
		if r.pushes != 6 { // 4 originals, the 2nd and 4th twice
			t.Fatalf("%d pushes then %v", r.pushes, r.err)
		}
	})
	t.Run("heartbeat timeout", func(t *testing.T) {
		t.Parallel()
		r := run(t, Conn{}, 0, WithHeartbeatTimeout(50*time.Millisecond))
		var ce *websocket.CloseError
		if !asCloseError(r.err, &ce) || ce.Code != HeartbeatCloseCode {
			t.Fatalf("%v", r.err)
		}
	})
}

func TestHeartbeatsKeepSocketOpen(t *testing.T) {
	t.Parallel()
	s := newServer(t, WithStream("a", -1), WithHeartbeatTimeout(100*time.Millisecond))
	c := dial(t, s)
	c.mustAck(c.subscribe("subscribe", "/test-co/a"))
	for range 8 {
		time.Sleep(25 * time.Millisecond)
		c.send(`{"type":"heartbeat"}`)
	}
	e := publish(t, s, "/test-co/a", 1)[0]
	if f := c.mustRead(); f.eventID(t) != e.ID {
		t.Fatalf("%s", f.raw)
	}
	eventually(t, "8 heartbeats", func() bool { return s.Heartbeats() == 8 })
}

func TestSilenceAndKick(t *testing.T) {
	t.Parallel()
	s := newServer(t, WithStream("a", -1))
	c := dial(t, s)
	c.mustAck(c.subscribe("subscribe", "/test-co/a"))
	s.Kick(Silence, 0, "")
	publish(t, s, "/test-co/a", 3)
	pong := make(chan struct{}, 1)
	c.ws.SetPongHandler(func(string) error { pong <- struct{}{}; return nil })
	c.ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(time.Second))
	c.ws.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	if _, b, err := c.ws.ReadMessage(); err == nil {
		t.Fatalf("a silent socket sent %s", b)
	}
	select {
	case <-pong:
		t.Fatal("a silent socket answered a ping")
	default:
	}

	// Mute: nothing but pongs.
	c3 := dial(t, s)
	c3.mustAck(c3.subscribe("subscribe", "/test-co/a"))
	s.Kick(Mute, 0, "")
	publish(t, s, "/test-co/a", 1)
	c3.subscribe("subscribe", "/test-co/a")
	pong3 := make(chan struct{}, 1)
	c3.ws.SetPongHandler(func(string) error { pong3 <- struct{}{}; return nil })
	c3.ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(time.Second))
	c3.ws.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	if _, b, err := c3.ws.ReadMessage(); err == nil { // the pong is handled inside ReadMessage
		t.Fatalf("a muted socket sent %s", b)
	}
	select {
	case <-pong3:
	default:
		t.Fatal("a muted socket did not answer a ping")
	}

	c2 := dial(t, s)
	c2.mustAck(c2.subscribe("subscribe", "/test-co/a"))
	s.SendRaw([]byte(`{"type":"whatever"}`))
	if f := c2.mustRead(); string(f.raw) != `{"type":"whatever"}` {
		t.Fatalf("SendRaw: %s", f.raw)
	}
	s.Kick(Close, 4000, "kicked")
	_, err := c2.read()
	var ce *websocket.CloseError
	if !asCloseError(err, &ce) || ce.Code != 4000 {
		t.Fatalf("kick: %v", err)
	}
}

func TestRate(t *testing.T) {
	t.Parallel()
	s := newServer(t, WithStream("a", -1), WithStream("b", -1), WithRate(1000, "/test-co/a", "/test-co/b"))
	c := dial(t, s)
	c.mustAck(c.subscribe("subscribe", "/test-co/b"))
	for range 20 {
		f := c.mustRead()
		if f.Resource != s.Streams()[1].ID {
			t.Fatalf("push of another stream: %s", f.raw)
		}
	}
	if n := len(s.Events("/test-co/a")); n < 20 {
		t.Fatalf("stream a has %d events", n)
	}
}

func TestCloseEndsSockets(t *testing.T) {
	t.Parallel()
	s := NewServer(WithStream("a", -1), WithAckDelay(time.Hour))
	c := dial(t, s)
	c.subscribe("subscribe", "/test-co/a") // a delayed reply pending
	eventually(t, "the subscription", func() bool { return s.OpenSockets() == 1 && len(s.Requests()) == 1 })
	done := make(chan struct{})
	go func() { s.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not return")
	}
	if _, err := c.read(); err == nil {
		t.Fatal("socket still open after Close")
	}
	s.Close() // again
	resp, err := http.Post(s.URL+SessionPath, "", nil)
	if err == nil {
		resp.Body.Close()
		t.Fatal("server still answers after Close")
	}
}

func asCloseError(err error, ce **websocket.CloseError) bool {
	e, ok := err.(*websocket.CloseError)
	if ok {
		*ce = e
	}
	return ok
}

// The token never appears in a record.
func TestTokenNotRecorded(t *testing.T) {
	t.Parallel()
	s := newServer(t, WithCredentials("co", "u", "sekrit-token-value"))
	post(t, s, map[string]string{"X-Auth-Company": "co", "X-Auth-User": "u", "X-Auth-Token": "sekrit-token-value"})
	post(t, s, map[string]string{"X-Auth-Company": "co", "X-Auth-User": "u", "X-Auth-Token": "sekrit-wrong"})
	b, _ := json.Marshal(s.Sessions())
	if strings.Contains(string(b), "sekrit") {
		t.Fatalf("token recorded: %s", b)
	}
}
