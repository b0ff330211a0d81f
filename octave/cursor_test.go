package octave

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestCursorRoundTrip(t *testing.T) {
	t.Parallel()
	s := &source{pos: map[string]*position{}}
	p := &position{floor: 5}
	p.delivered("e1", 100)
	p.delivered("e2", 100)
	p.delivered("e0", 99) // older: the position stays
	s.pos["/co/a"] = p
	q := &position{floor: 7}
	q.delivered("e9", 200)
	q.openGap()
	q.delivered("e10", 300) // delivered during the gap: the gap's start is what counts
	s.pos["s1"] = q
	s.pos["/co/never"] = &position{floor: 9} // nothing delivered, no gap: nothing to save

	b := s.SaveCursor()
	want := `{"v":1,"streams":{"/co/a":{"from":100,"ids":["e1","e2"]},"s1":{"from":200,"ids":["e9"]}}}`
	if string(b) != want {
		t.Fatalf("SaveCursor\n got %s\nwant %s", b, want)
	}
	r := &source{pos: map[string]*position{}}
	if err := r.LoadCursor(b); err != nil {
		t.Fatal(err)
	}
	if got := r.pos["/co/a"]; got.newest != 100 || !slices.Equal(got.newestIDs, []string{"e1", "e2"}) || !got.acked {
		t.Fatalf("loaded %+v", got)
	}
	// A loaded stream opens its gap at the saved position, with the saved ids to skip.
	got := r.pos["s1"]
	got.openGap()
	if got.gapFrom != 200 || !slices.Equal(got.gapIDs, []string{"e9"}) {
		t.Fatalf("gap from %+v", got)
	}
}

func TestCursorRejectsBadInput(t *testing.T) {
	t.Parallel()
	for _, in := range []string{
		``, `[]`, `{"v":2,"streams":{}}`, `{"v":1,"streams":{"":{"from":1}}}`,
		`{"v":1,"streams":{"/co/a":{"from":-1}}}`, `{"v":1,"streams":{"/co/a":{"from":"x"}}}`,
	} {
		s := &source{pos: map[string]*position{}}
		if err := s.LoadCursor([]byte(in)); err == nil || !strings.HasPrefix(err.Error(), "octave: checkpoint cursor") {
			t.Errorf("LoadCursor(%q) = %v", in, err)
		}
	}
}

func TestPositionTies(t *testing.T) {
	t.Parallel()
	p := &position{}
	for i := range maxTies + 10 {
		p.delivered("e"+string(rune('a'+i%26))+string(rune('a'+i/26)), 5)
	}
	if len(p.newestIDs) != maxTies {
		t.Fatalf("%d ids kept", len(p.newestIDs))
	}
	p.delivered("z", 6)
	if !slices.Equal(p.newestIDs, []string{"z"}) || p.newest != 6 {
		t.Fatalf("%+v", p)
	}
	p.openGap()
	p.delivered("y", 7)
	p.openGap() // already open: unchanged
	if p.gapFrom != 6 || !slices.Equal(p.gapIDs, []string{"z"}) {
		t.Fatalf("%+v", p)
	}
	fresh := &position{floor: 42}
	fresh.openGap()
	if fresh.gapFrom != 42 || fresh.gapIDs != nil {
		t.Fatalf("a stream with nothing delivered fills from its floor: %+v", fresh)
	}
}

func TestStreams(t *testing.T) {
	t.Parallel()
	var s Streams // the zero value works
	ch, cancel := s.watch()
	defer cancel()
	if err := s.Subscribe("/co/a"); err != nil {
		t.Fatal(err)
	}
	s.Subscribe("s1")
	s.Subscribe("/co/a") // again: no change
	if got := s.Names(); !slices.Equal(got, []string{"/co/a", "s1"}) {
		t.Fatalf("Names %v", got)
	}
	select {
	case <-ch:
	default:
		t.Fatal("no change notified")
	}
	for _, bad := range []string{"", "/", "a\nb"} {
		if s.Subscribe(bad) == nil {
			t.Errorf("Subscribe(%q) accepted", bad)
		}
	}
	refused := errors.New("refused")
	s.fail("s1", refused)
	if !errors.Is(s.Err("s1"), refused) || slices.Contains(s.Names(), "s1") || len(s.failures()) != 1 {
		t.Fatalf("after fail: %v %v", s.Err("s1"), s.Names())
	}
	s.Subscribe("s1") // a new chance clears the refusal
	if s.Err("s1") != nil {
		t.Fatal("refusal kept")
	}
	if !s.Unsubscribe("/co/a") || s.Unsubscribe("/co/a") {
		t.Fatal("Unsubscribe")
	}
}

func TestConfigRedacts(t *testing.T) {
	t.Parallel()
	st, _ := NewStreams("/co/a")
	c, err := Config{Company: "co", Token: "hush", Streams: st, Endpoint: "http://127.0.0.1:1/"}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	if c.Endpoint != "http://127.0.0.1:1" || c.REST != DefaultREST || c.PageSize != DefaultPageSize || c.Heartbeat != DefaultHeartbeat || c.Probe != DefaultProbe {
		t.Fatalf("defaults %v", c)
	}
	if strings.Contains(c.String(), "hush") || strings.Contains(c.LogValue().String(), "hush") {
		t.Fatal("token shown")
	}
}
