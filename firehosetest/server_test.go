package firehosetest

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// A short keep-alive tells a test that the server has nothing more ready: the replay is over.
const shortKeepAlive = 25 * time.Millisecond

func TestReplayAndPartitions(t *testing.T) {
	t.Parallel()
	s := newServer(t, WithHistory(600, time.Minute), WithKeepAlive(shortKeepAlive))
	all := s.Log().Events(1, NumPartitions)
	mid := all[300].Timestamp
	filter := func(min, max int, from int64) [][]byte {
		var out [][]byte
		for _, e := range all {
			if e.Partition >= min && e.Partition <= max && e.Timestamp >= from {
				out = append(out, e.Line)
			}
		}
		return out
	}
	for _, c := range []struct {
		name     string
		query    string
		min, max int
		from     int64
	}{
		{"all", "?fromTimestamp=1", 1, 12, 1},
		{"range 3-5", "?minPartition=3&maxPartition=5&fromTimestamp=1", 3, 5, 1},
		{"only 12", "?minPartition=12&fromTimestamp=1", 12, 12, 1},
		{"only 1", "?maxPartition=1&fromTimestamp=1", 1, 1, 1},
		{"from the middle", "?fromTimestamp=" + strconv.FormatInt(mid, 10), 1, 12, mid},
		{"range from the middle", "?minPartition=2&maxPartition=7&fromTimestamp=" + strconv.FormatInt(mid, 10), 2, 7, mid},
		{"future", "?fromTimestamp=" + strconv.FormatInt(time.Now().Add(time.Hour).UnixMilli(), 10), 1, 12, 1 << 62},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			want := filter(c.min, c.max, c.from)
			if c.name != "future" && len(want) < 20 {
				t.Fatalf("only %d events expected: a weak test", len(want))
			}
			sameLines(t, get(t, s, c.query).untilKeepAlive(), want)
		})
	}
}

func TestReplayWindowClamp(t *testing.T) {
	t.Parallel()
	s := newServer(t, WithHistory(400, 2*time.Minute), WithReplayWindow(time.Minute), WithKeepAlive(shortKeepAlive))
	st := get(t, s, "?fromTimestamp=1")
	got := st.untilKeepAlive()
	floor := s.Requests()[0].Time.Add(-time.Minute).UnixMilli()
	var want [][]byte
	for _, e := range s.Log().Events(1, NumPartitions) {
		if e.Timestamp >= floor {
			want = append(want, e.Line)
		}
	}
	if len(want) < 150 || len(want) > 250 {
		t.Fatalf("%d events inside the window, want about half of 400", len(want))
	}
	sameLines(t, got, want)
	if r := s.Requests()[0]; r.FromTimestamp != 1 || !r.HasFromTimestamp {
		t.Fatalf("request recorded as %+v", r)
	}
}

func TestLiveOnlyWithoutFromTimestamp(t *testing.T) {
	t.Parallel()
	for _, query := range []string{"", "?fromTimestamp=0"} {
		t.Run("query="+query, func(t *testing.T) {
			t.Parallel()
			s := newServer(t, WithHistory(100, time.Minute), WithRate(400))
			got := get(t, s, query).lines(20)
			opened := s.Requests()[0].Time
			evs := s.Log().Events(1, NumPartitions)
			first := -1
			for i, e := range evs {
				if string(e.Line) == string(got[0]) {
					first = i
				}
			}
			if first < 100 {
				t.Fatalf("first event served is log index %d: want a live one (≥ 100)", first)
			}
			if !evs[first].Emit.After(opened) || (first > 0 && evs[first-1].Emit.After(opened)) {
				t.Fatalf("first event emitted at %v, the connection opened at %v: want the first one after", evs[first].Emit, opened)
			}
			sameLines(t, got, linesOf(evs[first:first+20]))
		})
	}
}

var keepAlivePattern = regexp.MustCompile(`^\{"recordUid":"event-[0-9a-f]+","recordTimestamp":(\d+),"spacesTenantId":"","spacesTenantName":"","partnerTenantId":"","eventType":"KEEP_ALIVE"\}$`)

// checkKeepAlive fails unless line is a keep-alive stamped now.
func checkKeepAlive(t *testing.T, line []byte) {
	t.Helper()
	m := keepAlivePattern.FindSubmatch(line)
	if m == nil {
		t.Fatalf("not a keep-alive: %s", line)
	}
	if ts, _ := strconv.ParseInt(string(m[1]), 10, 64); ts != time.Now().UnixMilli() {
		t.Fatalf("keep-alive stamped %d, now is %d", ts, time.Now().UnixMilli())
	}
}

func TestKeepAliveSynctest(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := NewServer(WithInMemory())
		defer s.Close()
		if s.URL != "http://firehosetest.invalid" {
			t.Fatalf("URL %q", s.URL)
		}
		// A plain transport dialing through the server, as a client under test would be set up.
		tr := &http.Transport{DialContext: s.DialContext}
		defer tr.CloseIdleConnections()
		start := time.Now()
		st := getWith(t, &http.Client{Transport: tr}, s.URL+EventsPath, DefaultAPIKey)
		defer st.close()
		if st.resp.StatusCode != 200 || st.resp.Header.Get("Content-Type") != "application/x-ndjson" || st.resp.Header.Get("Date") == "" {
			t.Fatalf("status %d, header %v", st.resp.StatusCode, st.resp.Header)
		}
		for i := 1; i <= 3; i++ {
			line := st.mustLine()
			if d := time.Since(start); d != time.Duration(i)*DefaultKeepAlive {
				t.Fatalf("keep-alive %d after %v, want %v", i, d, time.Duration(i)*DefaultKeepAlive)
			}
			checkKeepAlive(t, line)
		}
	})
}

func TestKeepAliveBetweenSparseEvents(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// One live event every 20 s: keep-alive at 15 s, event at 20 s, keep-alive at 35 s, event at 40 s.
		s := NewServer(WithInMemory(), WithRate(0.05))
		defer s.Close()
		start := time.Now()
		st := get(t, s, "")
		defer st.close()
		for _, want := range []struct {
			at        time.Duration
			keepAlive bool
		}{{15 * time.Second, true}, {20 * time.Second, false}, {35 * time.Second, true}, {40 * time.Second, false}} {
			line := st.mustLine()
			if d := time.Since(start); d != want.at || isKeepAlive(line) != want.keepAlive {
				t.Fatalf("at %v got %.120s, want keep-alive=%v at %v", d, line, want.keepAlive, want.at)
			}
		}
		evs := s.Log().Events(1, 12)
		if len(evs) != 2 || evs[1].Emit.Sub(start) != 40*time.Second {
			t.Fatalf("log holds %d events", len(evs))
		}
	})
}

func TestInMemoryTLSSynctest(t *testing.T) {
	for _, h2 := range []bool{false, true} {
		t.Run(fmt.Sprintf("http2=%v", h2), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				opts := []Option{WithInMemory(), WithTLS(), WithHistory(3, time.Minute)}
				if h2 {
					opts = append(opts, WithHTTP2())
				}
				s := NewServer(opts...)
				defer s.Close()
				if s.URL != "https://firehosetest.invalid" {
					t.Fatalf("URL %q", s.URL)
				}
				start := time.Now()
				st := get(t, s, "?fromTimestamp=1")
				defer st.close()
				if st.resp.TLS == nil || (st.resp.ProtoMajor == 2) != h2 {
					t.Fatalf("negotiated %s", st.resp.Proto)
				}
				sameLines(t, st.lines(3), linesOf(s.Log().Events(1, 12)))
				checkKeepAlive(t, st.mustLine())
				if d := time.Since(start); d != DefaultKeepAlive {
					t.Fatalf("keep-alive after %v", d)
				}
			})
		})
	}
}

func TestReplayThenLiveSynctest(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := NewServer(WithInMemory(), WithHistory(10, 10*time.Second), WithRate(2))
		defer s.Close()
		start := time.Now()
		st := get(t, s, "?fromTimestamp=1")
		defer st.close()
		history := st.lines(10)
		if time.Since(start) != 0 {
			t.Fatalf("the replay took %v of fake time", time.Since(start))
		}
		live := st.lines(4)
		if d := time.Since(start); d != 2*time.Second {
			t.Fatalf("4 live events at 2/s took %v", d)
		}
		sameLines(t, append(history, live...), linesOf(s.Log().Events(1, 12)))
	})
}

func TestRejections(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name   string
		opts   []Option
		method string
		path   string
		key    string
		status int
		body   string
		check  func(t *testing.T, r Request)
	}{
		{name: "wrong key", key: "nope", status: 401, check: func(t *testing.T, r Request) {
			if r.KeyOK {
				t.Error("KeyOK with a wrong key")
			}
		}},
		{name: "missing key", key: "-", status: 401},
		{name: "custom key", opts: []Option{WithAPIKey("k2")}, key: "k2", status: 200},
		{name: "key check off", opts: []Option{WithAPIKey("")}, key: "-", status: 200},
		{name: "replicaId on cloud", path: EventsPath + "?replicaId=1", status: 400, body: "replicaId is not supported for cloud activations"},
		{name: "replicaId on-prem", opts: []Option{WithCloud(false)}, path: EventsPath + "?replicaId=2", status: 200, check: func(t *testing.T, r Request) {
			if !r.HasReplicaID || r.ReplicaID != 2 {
				t.Errorf("replica recorded as %v %d", r.HasReplicaID, r.ReplicaID)
			}
		}},
		{name: "bad replicaId on-prem", opts: []Option{WithCloud(false)}, path: EventsPath + "?replicaId=x", status: 400},
		{name: "wrong path", path: "/api/partners/v1/firehose/event", status: 404},
		{name: "root path", path: "/", status: 404},
		{name: "POST", method: http.MethodPost, status: 405},
		{name: "http channel disabled", opts: []Option{WithChannels("ws", "GRPC")}, status: 403},
		{name: "http channel enabled", opts: []Option{WithChannels("HTTP")}, status: 200},
		{name: "minPartition 0", path: EventsPath + "?minPartition=0", status: 400},
		{name: "maxPartition 13", path: EventsPath + "?maxPartition=13", status: 400},
		{name: "min above max", path: EventsPath + "?minPartition=5&maxPartition=4", status: 400},
		{name: "minPartition not a number", path: EventsPath + "?minPartition=one", status: 400},
		{name: "negative fromTimestamp", path: EventsPath + "?fromTimestamp=-5", status: 400},
		{name: "fromTimestamp not a number", path: EventsPath + "?fromTimestamp=yesterday", status: 400},
		{name: "all parameters", path: EventsPath + "?minPartition=4&maxPartition=9&fromTimestamp=123", status: 200, check: func(t *testing.T, r Request) {
			if r.MinPartition != 4 || r.MaxPartition != 9 || r.FromTimestamp != 123 || !r.HasFromTimestamp || r.HasReplicaID {
				t.Errorf("recorded as %+v", r)
			}
		}},
		{name: "defaults", status: 200, check: func(t *testing.T, r Request) {
			if r.MinPartition != 1 || r.MaxPartition != 12 || r.HasFromTimestamp || r.Proto != "HTTP/1.1" || r.Transport != "http" || !r.KeyOK || r.Path != EventsPath {
				t.Errorf("recorded as %+v", r)
			}
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			s := newServer(t, c.opts...)
			method, path, key := c.method, c.path, c.key
			if method == "" {
				method = http.MethodGet
			}
			if path == "" {
				path = EventsPath
			}
			switch key {
			case "":
				key = DefaultAPIKey
			case "-":
				key = ""
			}
			req, _ := http.NewRequest(method, s.URL+path, nil)
			if key != "" {
				req.Header.Set("X-API-Key", key)
			}
			resp, err := s.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != c.status {
				b, _ := io.ReadAll(resp.Body)
				t.Fatalf("status %d (%s), want %d", resp.StatusCode, b, c.status)
			}
			if c.status != 200 {
				b, _ := io.ReadAll(resp.Body)
				if !strings.Contains(string(b), c.body) {
					t.Errorf("body %q, want it to contain %q", b, c.body)
				}
			}
			reqs := s.Requests()
			if len(reqs) != 1 || reqs[0].Status != c.status {
				t.Fatalf("Requests() = %+v", reqs)
			}
			if c.check != nil {
				c.check(t, reqs[0])
			}
		})
	}
}

// readAll reads lines until an error; it returns the full lines, the partial last one and the error.
func readAll(st *stream) (lines [][]byte, partial []byte, err error) {
	for {
		b, err := st.line()
		if err != nil {
			return lines, b, err
		}
		lines = append(lines, b)
	}
}

func TestScriptActions(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name    string
		conn    Conn
		full    int  // full event lines before the end
		torn    bool // a half line follows them
		cleanly bool // io.EOF rather than an abrupt end
	}{
		{name: "cut", conn: Conn{After: 5, Action: Cut}, full: 5},
		{name: "cut at once", conn: Conn{Action: Cut}, full: 0},
		{name: "cut mid-line", conn: Conn{After: 3, Action: CutMidLine}, full: 3, torn: true},
		{name: "cut mid-line at once", conn: Conn{Action: CutMidLine}, full: 0, torn: true},
		{name: "end stream", conn: Conn{After: 4, Action: EndStream}, full: 4, cleanly: true},
		{name: "end stream at once", conn: Conn{Action: EndStream}, full: 0, cleanly: true},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			s := newServer(t, WithHistory(50, time.Minute), WithScript(c.conn))
			lines, partial, err := readAll(get(t, s, "?fromTimestamp=1"))
			evs := s.Log().Events(1, 12)
			sameLines(t, lines, linesOf(evs[:c.full]))
			switch {
			case c.cleanly && err != io.EOF:
				t.Fatalf("stream ended with %v, want a clean EOF", err)
			case !c.cleanly && (err == io.EOF || err == nil):
				t.Fatalf("stream ended cleanly, want an abrupt end")
			}
			if c.torn {
				want := evs[c.full].Line[:len(evs[c.full].Line)/2]
				if string(partial) != string(want) {
					t.Fatalf("torn line %q, want the first half of event %d", partial, c.full)
				}
			} else if len(partial) != 0 {
				t.Fatalf("unexpected partial line %q", partial)
			}
			if got := s.Served(); got != int64(c.full) {
				t.Fatalf("Served() = %d, want %d", got, c.full)
			}
		})
	}
}

func TestScriptStatuses(t *testing.T) {
	t.Parallel()
	date := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC).Format(http.TimeFormat)
	s := newServer(t, WithHistory(20, time.Minute), WithKeepAlive(shortKeepAlive), WithScript(
		Conn{Status: 429, RetryAfter: "7", Message: "slow down"},
		Conn{Status: 503, RetryAfter: date},
		Conn{Status: 401}, // whatever the request
		Conn{After: 2, Action: Cut},
	))
	for i, want := range []struct {
		status     int
		retryAfter string
		body       string
	}{{429, "7", "slow down"}, {503, date, "Service Unavailable"}, {401, "", "Unauthorized"}} {
		st := get(t, s, "?fromTimestamp=1")
		if st.resp.StatusCode != want.status || st.resp.Header.Get("Retry-After") != want.retryAfter {
			t.Fatalf("attempt %d: %d Retry-After %q", i, st.resp.StatusCode, st.resp.Header.Get("Retry-After"))
		}
		if b := st.body(); !strings.Contains(b, want.body) {
			t.Fatalf("attempt %d: body %q", i, b)
		}
	}
	lines, _, err := readAll(get(t, s, "?fromTimestamp=1"))
	if len(lines) != 2 || err == io.EOF {
		t.Fatalf("attempt 3: %d lines, %v", len(lines), err)
	}
	// Past the script: served normally.
	if got := get(t, s, "?fromTimestamp=1").untilKeepAlive(); len(got) != 20 {
		t.Fatalf("attempt 4 served %d events, want 20", len(got))
	}
	var statuses []int
	for _, r := range s.Requests() {
		statuses = append(statuses, r.Status)
	}
	if fmt.Sprint(statuses) != "[429 503 401 200 200]" {
		t.Fatalf("statuses %v", statuses)
	}
}

func TestDuplicates(t *testing.T) {
	t.Parallel()
	idx := func(from, to int) []int {
		var out []int
		for i := from; i < to; i++ {
			out = append(out, i)
		}
		return out
	}
	cat := func(parts ...[]int) []int {
		var out []int
		for _, p := range parts {
			out = append(out, p...)
		}
		return out
	}
	for _, c := range []struct {
		name string
		conn Conn
		want []int // log indices served, then a clean end
	}{
		{"burst after 10", Conn{After: 10, Duplicates: 4, Action: EndStream}, cat(idx(0, 10), idx(6, 10))},
		{"burst then go on", Conn{After: 10, Duplicates: 4}, cat(idx(0, 10), idx(6, 10), idx(10, 30))},
		{"more duplicates than After", Conn{After: 2, Duplicates: 5, Action: EndStream}, cat(idx(0, 5), idx(0, 5))},
		{"burst then cut", Conn{After: 6, Duplicates: 6, Action: EndStream}, cat(idx(0, 6), idx(0, 6))},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			s := newServer(t, WithHistory(30, time.Minute), WithKeepAlive(shortKeepAlive), WithScript(c.conn))
			st := get(t, s, "?fromTimestamp=1")
			var got [][]byte
			if c.conn.Action == EndStream {
				var err error
				if got, _, err = readAll(st); err != io.EOF {
					t.Fatalf("ended with %v", err)
				}
			} else {
				got = st.untilKeepAlive()
			}
			evs := s.Log().Events(1, 12)
			var want [][]byte
			for _, i := range c.want {
				want = append(want, evs[i].Line)
			}
			sameLines(t, got, want)
			if s.Served() != int64(len(want)) || s.Requests()[0].Served != int64(len(want)) {
				t.Fatalf("Served() = %d, Requests()[0].Served = %d, want %d", s.Served(), s.Requests()[0].Served, len(want))
			}
		})
	}
}

func TestInject(t *testing.T) {
	t.Parallel()
	s := newServer(t, WithHistory(10, time.Minute), WithScript(Conn{
		After:  5,
		Action: EndStream,
		Inject: []Inject{
			{At: 2, Kind: Oversized, Size: 100_000},
			{At: 0, Kind: Malformed},
			{At: 2, Kind: UnknownType},
			{At: 3, Kind: BinaryMessage}, // a WebSocket thing: skipped on HTTP
			{At: 5, Kind: Malformed},     // at the fault point: before the end
			{At: 6, Kind: Malformed},     // never reached
		},
	}))
	lines, partial, err := readAll(get(t, s, "?fromTimestamp=1"))
	if err != io.EOF || len(partial) != 0 {
		t.Fatalf("ended with %v, partial %q", err, partial)
	}
	evs := s.Log().Events(1, 12)
	kinds := []string{"malformed", "e0", "e1", "oversized", "unknown", "e2", "e3", "e4", "malformed"}
	if len(lines) != len(kinds) {
		t.Fatalf("got %d lines, want %v", len(lines), kinds)
	}
	inLog := map[string]bool{}
	for _, e := range evs {
		inLog[e.UID] = true
	}
	for i, kind := range kinds {
		line := lines[i]
		var env struct {
			UID  string `json:"recordUid"`
			Type string `json:"eventType"`
		}
		err := json.Unmarshal(line, &env)
		switch kind {
		case "malformed":
			if err == nil || !strings.HasPrefix(string(line), `{"recordUid":"event-`) {
				t.Fatalf("line %d should be malformed: %s", i, line)
			}
		case "oversized":
			if err != nil || len(line) != 100_000 || env.Type != "DEVICE_LOCATION_UPDATE" || inLog[env.UID] {
				t.Fatalf("line %d: %d bytes, type %s, err %v", i, len(line), env.Type, err)
			}
		case "unknown":
			if err != nil || env.Type != "SPACE_OCCUPANCY" || inLog[env.UID] || !strings.Contains(string(line), `"spaceOccupancy":{`) {
				t.Fatalf("line %d: %.200s", i, line)
			}
		default:
			n, _ := strconv.Atoi(kind[1:])
			if string(line) != string(evs[n].Line) {
				t.Fatalf("line %d: %.200s, want event %d", i, line, n)
			}
		}
	}
	if s.Served() != 5 || s.Log().Len() != 10 {
		t.Fatalf("Served %d, Len %d: injected lines must not count", s.Served(), s.Log().Len())
	}
}

func TestInjectDefaultOversize(t *testing.T) {
	t.Parallel()
	s := newServer(t, WithScript(Conn{Inject: []Inject{{Kind: Oversized}}, Action: EndStream}))
	lines, _, err := readAll(get(t, s, ""))
	if err != io.EOF || len(lines) != 1 || len(lines[0]) != DefaultOversize ||
		!strings.HasPrefix(string(lines[0][:50]), `{"recordUid":"event-`) || !strings.Contains(string(lines[0][len(lines[0])-80:]), `"ipv6":[`) || !strings.HasSuffix(string(lines[0]), "]}}") {
		t.Fatalf("%d lines (%v)", len(lines), err)
	}
	// Sizes below a minimal event give the minimal event.
	var b []byte
	r := rng{s: 1}
	if b = s.Log().appendInjected(b, Inject{Kind: Oversized, Size: 10}, &r, time.Now()); !json.Valid(b) || len(b) < 500 {
		t.Fatalf("small oversized line: %s", b)
	}
}

func TestStallAndCloseSynctest(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := NewServer(WithInMemory(), WithHistory(5, time.Minute), WithScript(Conn{After: 2, Action: Stall}))
		st := get(t, s, "?fromTimestamp=1")
		defer st.close()
		st.lines(2)
		done := make(chan error, 1)
		go func() {
			_, err := st.line()
			done <- err
		}()
		time.Sleep(time.Hour) // fake: no keep-alive, no event in an hour of silence
		synctest.Wait()
		select {
		case err := <-done:
			t.Fatalf("a stalled stream delivered something: %v", err)
		default:
		}
		s.Close() // must end the stalled handler and wait for it
		if err := <-done; err == nil || err == io.EOF {
			t.Fatalf("reader got %v after Close, want an abrupt end", err)
		}
		s.Close() // idempotent
	})
}

func TestCloseUnblocksStalledStreams(t *testing.T) {
	t.Parallel()
	s := NewServer(WithScript(Conn{Action: Stall}, Conn{Action: Stall}, Conn{After: 1, Action: Stall}), WithHistory(3, time.Second))
	var wg sync.WaitGroup
	errs := make(chan error, 3)
	for range 3 {
		st := get(t, s, "?fromTimestamp=1")
		wg.Go(func() {
			_, _, err := readAll(st)
			errs <- err
		})
	}
	var cwg sync.WaitGroup
	for range 2 { // concurrent Close calls both return once everything has stopped
		cwg.Go(s.Close)
	}
	cwg.Wait()
	wg.Wait()
	close(errs)
	for err := range errs {
		if err == nil || err == io.EOF {
			t.Fatalf("a stalled stream ended with %v after Close", err)
		}
	}
	// After Close: refused, never served.
	if _, err := s.Client().Get(s.URL + EventsPath); err == nil {
		t.Fatal("a closed server answered")
	}
}

func TestTLS(t *testing.T) {
	t.Parallel()
	s := newServer(t, WithTLS(), WithHistory(5, time.Minute), WithKeepAlive(shortKeepAlive))
	if !strings.HasPrefix(s.URL, "https://127.0.0.1:") || s.Certificate() == nil {
		t.Fatalf("URL %q, certificate %v", s.URL, s.Certificate())
	}
	st := get(t, s, "?fromTimestamp=1")
	if st.resp.TLS == nil || st.resp.ProtoMajor != 1 {
		t.Fatalf("TLS %v, proto %s", st.resp.TLS, st.resp.Proto)
	}
	if got := st.untilKeepAlive(); len(got) != 5 {
		t.Fatalf("%d events", len(got))
	}
	// A client that does not trust the certificate fails.
	c := &http.Client{Transport: &http.Transport{}}
	defer c.CloseIdleConnections()
	if _, err := c.Get(s.URL + EventsPath); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("untrusted client: %v", err)
	}
}

func TestHTTP2(t *testing.T) {
	t.Parallel()
	s := newServer(t, WithHTTP2(), WithHistory(40, time.Minute), WithKeepAlive(shortKeepAlive),
		WithScript(Conn{}, Conn{After: 3, Action: Cut}, Conn{After: 2, Action: CutMidLine}))
	pool := x509.NewCertPool()
	pool.AddCert(s.Certificate())
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: true}
	c := &http.Client{Transport: tr}
	t.Cleanup(tr.CloseIdleConnections)

	st := getWith(t, c, s.URL+EventsPath+"?fromTimestamp=1", DefaultAPIKey)
	if st.resp.ProtoMajor != 2 {
		t.Fatalf("negotiated %s, want HTTP/2", st.resp.Proto)
	}
	evs := s.Log().Events(1, 12)
	sameLines(t, st.untilKeepAlive(), linesOf(evs))

	// A cut resets the stream after the lines already flushed.
	lines, partial, err := readAll(getWith(t, c, s.URL+EventsPath+"?fromTimestamp=1", DefaultAPIKey))
	if err == nil || err == io.EOF || len(partial) != 0 {
		t.Fatalf("cut ended with %v, partial %q", err, partial)
	}
	sameLines(t, lines, linesOf(evs[:3]))
	lines, partial, err = readAll(getWith(t, c, s.URL+EventsPath+"?fromTimestamp=1", DefaultAPIKey))
	if err == nil || err == io.EOF || string(partial) != string(evs[2].Line[:len(evs[2].Line)/2]) {
		t.Fatalf("mid-line cut ended with %v, partial %q", err, partial)
	}
	sameLines(t, lines, linesOf(evs[:2]))

	for i, r := range s.Requests() {
		if r.Proto != "HTTP/2.0" {
			t.Fatalf("request %d: proto %q", i, r.Proto)
		}
	}
	// Server.Client negotiates HTTP/2 too.
	if st := get(t, s, ""); st.resp.ProtoMajor != 2 {
		t.Fatalf("Client() negotiated %s", st.resp.Proto)
	}
}

func TestConcurrentReceivers(t *testing.T) {
	t.Parallel()
	s := newServer(t, WithHistory(1200, time.Minute), WithKeepAlive(shortKeepAlive))
	ranges := [][2]int{{1, 3}, {4, 6}, {7, 9}, {10, 12}}
	got := make([][][]byte, len(ranges))
	var wg sync.WaitGroup
	for i, r := range ranges {
		st := get(t, s, fmt.Sprintf("?minPartition=%d&maxPartition=%d&fromTimestamp=1", r[0], r[1]))
		wg.Go(func() {
			for {
				b, err := st.line()
				if err != nil || isKeepAlive(b) {
					return
				}
				got[i] = append(got[i], b)
			}
		})
	}
	wg.Wait()
	total := 0
	for i, r := range ranges {
		sameLines(t, got[i], linesOf(s.Log().Events(r[0], r[1])))
		total += len(got[i])
	}
	if total != 1200 || s.Served() != 1200 {
		t.Fatalf("receivers got %d events, Served %d, want 1200", total, s.Served())
	}
}

// TestChaos reconnects through random faults, resuming from the highest timestamp seen minus the
// 2 s disorder bound, and must end up with every event of the log.
func TestChaos(t *testing.T) {
	t.Parallel()
	first, again, other := fmt.Sprint(chaosConn(5, 40, 3)), fmt.Sprint(chaosConn(5, 40, 3)), fmt.Sprint(chaosConn(6, 40, 3))
	if first != again || first == other {
		t.Fatal("chaos is not a function of its seed")
	}
	s := newServer(t, WithHistory(800, time.Minute), WithChaos(42, 60), WithKeepAlive(shortKeepAlive))
	seen := map[string]bool{}
	dups := 0
	var maxTS int64
	for attempt := 0; ; attempt++ {
		if attempt > 200 {
			t.Fatal("no progress")
		}
		from := int64(1)
		if maxTS > 0 {
			from = maxTS - 2000
		}
		st := get(t, s, "?fromTimestamp="+strconv.FormatInt(from, 10))
		caughtUp := false
		for {
			b, err := st.line()
			if err != nil {
				break
			}
			if isKeepAlive(b) {
				caughtUp = true
				break
			}
			var env struct {
				UID string `json:"recordUid"`
				TS  int64  `json:"recordTimestamp"`
			}
			if json.Unmarshal(b, &env) != nil {
				continue // an injected malformed line
			}
			key := env.UID + "/" + strconv.FormatInt(env.TS, 10)
			if seen[key] {
				dups++
			}
			seen[key] = true
			maxTS = max(maxTS, env.TS)
		}
		st.close()
		if caughtUp {
			break
		}
	}
	for _, e := range s.Log().Events(1, 12) {
		if !seen[e.UID+"/"+strconv.FormatInt(e.Timestamp, 10)] {
			t.Fatalf("event %d never delivered", e.Index)
		}
	}
	if len(seen) != 800 || dups == 0 || len(s.Requests()) < 5 {
		t.Fatalf("%d distinct events, %d duplicates, %d connections", len(seen), dups, len(s.Requests()))
	}
	t.Logf("%d connections, %d duplicates, %d lines served", len(s.Requests()), dups, s.Served())
}

func TestDialContext(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	conn, err := s.DialContext(context.Background(), "tcp", "ignored:1")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: x\r\nX-API-Key: nope\r\nConnection: close\r\n\r\n", EventsPath)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Fatalf("status %d", resp.StatusCode)
	}
}

func TestInMemoryDialAfterClose(t *testing.T) {
	t.Parallel()
	s := NewServer(WithInMemory())
	s.Close()
	if _, err := s.DialContext(context.Background(), "tcp", ""); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("dial after Close: %v", err)
	}
}

func TestOptions(t *testing.T) {
	t.Parallel()
	c := defaultConfig()
	for _, o := range []Option{nil, WithRate(-1), WithKeepAlive(-time.Second), WithReplayWindow(-1), WithHistory(-3, -time.Second), WithChaos(1, -5)} {
		if o != nil {
			o(&c)
		}
	}
	if c.rate != 0 || c.keepAlive != 0 || c.replayWindow != 0 || c.historyN != 0 || c.historySpan != 0 || c.chaosEvery != 0 {
		t.Fatalf("negative values not clamped: %+v", c)
	}
	d := defaultConfig()
	if d.apiKey != "test-key" || d.seed != 1 || d.keepAlive != 15*time.Second || d.replayWindow != time.Hour || !d.cloud || len(d.channels) != 3 {
		t.Fatalf("defaults: %+v", d)
	}
	script := []Conn{{Inject: []Inject{{At: 1}}}}
	WithScript(script...)(&c)
	script[0].Inject[0].At = 9
	if c.script[0].Inject[0].At != 1 {
		t.Fatal("WithScript does not copy")
	}
	// A server without keep-alives and without events stays silent; Close still ends it.
	s := NewServer(WithKeepAlive(0), WithScript(Conn{Action: EndStream}))
	if lines, _, err := readAll(get(t, s, "")); len(lines) != 0 || err != io.EOF {
		t.Fatalf("%d lines, %v", len(lines), err)
	}
	s.Close()
}
