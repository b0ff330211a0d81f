package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/firehose-go/firehose/callevents/calleventstest"
	"github.com/firehose-go/firehose/octave/octavetest"
)

// TestTailOctave: --source octave prints each event's value object, as
// received, from the mock's socket.
func TestTailOctave(t *testing.T) {
	t.Parallel()
	srv := octavetest.NewServer(octavetest.WithStream("cpu", 100))
	defer srv.Close()
	path := "/" + octavetest.DefaultCompany + "/cpu"
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	go func() {
		for len(srv.Requests()) == 0 && ctx.Err() == nil {
			time.Sleep(time.Millisecond)
		}
		for i := 0; i < 5 && ctx.Err() == nil; i++ {
			srv.Publish(path, map[string]int{"n": i})
		}
	}()
	r := runWith(ctx, t, map[string]string{"OCTAVE_TOKEN": octavetest.DefaultToken}, nil,
		"tail", "--source", "octave", "--endpoint", srv.URL, "--rest-endpoint", srv.URL, "--gap-fill",
		"--company", octavetest.DefaultCompany, "--user", octavetest.DefaultUser, "--stream", path, "--count", "5", "--quiet")
	if r.code != 0 {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
	var want strings.Builder
	for _, e := range srv.Events(path)[:5] {
		want.Write(e.JSON())
		want.WriteByte('\n')
	}
	if r.stdout != want.String() {
		t.Errorf("stdout:\n%s\nwant each value object as received:\n%s", r.stdout, want.String())
	}
	if strings.Contains(r.stdout+r.stderr, octavetest.DefaultToken) {
		t.Error("the token was printed")
	}
}

// TestTailCallEvents: --source callevents prints each event object,
// unwrapped from its envelope.
func TestTailCallEvents(t *testing.T) {
	t.Parallel()
	srv := calleventstest.NewServer(calleventstest.WithWrap(calleventstest.WrapBlackhole))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	go func() {
		if srv.WaitSockets(ctx, 1) == nil {
			for range 3 {
				srv.Publish(calleventstest.CustomerAccount, calleventstest.ChannelAnswer, nil)
			}
		}
	}()
	r := runWith(ctx, t, map[string]string{"CALLEVENTS_PASSWORD": "adminpassword"}, nil,
		"tail", "--source", "callevents", "--endpoint", srv.URL, "--username", "admin", "--domain", "master.test",
		"--events", "CHANNEL_ANSWER", "--count", "3", "--output", "meta", "--quiet")
	if r.code != 0 {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
	lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
	evs := srv.Events()
	if len(lines) != 3 || len(evs) != 3 {
		t.Fatalf("%d lines, %d published:\n%s", len(lines), len(evs), r.stdout)
	}
	for i, l := range lines {
		var m struct {
			Source, Type string
			Event        json.RawMessage
		}
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatal(err)
		}
		var compact bytes.Buffer
		json.Compact(&compact, evs[i].Object)
		if m.Source != "callevents" || m.Type != calleventstest.ChannelAnswer || !bytes.Equal(m.Event, compact.Bytes()) {
			t.Errorf("line %d = %s\nwant source callevents and the unwrapped object %s", i, l, evs[i].Object)
		}
	}
	if strings.Contains(r.stdout+r.stderr, "adminpassword") {
		t.Error("the password was printed")
	}
}

func TestSourceFlagErrors(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"tail", "--source", "octave", "--token", "t", "--stream", "/co/x"}, "needs --company"},
		{[]string{"tail", "--source", "octave", "--company", "co", "--stream", "/co/x"}, "OCTAVE_TOKEN"},
		{[]string{"tail", "--source", "octave", "--company", "co", "--token", "t"}, "needs --stream"},
		{[]string{"tail", "--source", "octave", "--company", "co", "--token", "t", "--stream", "nope"}, "want a stream id (s + 24 hex digits) or a path"},
		{[]string{"tail", "--source", "octave", "--company", "co", "--token", "t", "--stream", "/co/x", "--endpoint", "octave.example:443"}, "want a URL such as https://octave-ws.sierrawireless.io"},
		{[]string{"tail", "--source", "callevents", "--username", "u", "--domain", "d", "--password", "p"}, "needs --endpoint"},
		{[]string{"tail", "--source", "callevents", "--endpoint", "https://pbx.example", "--domain", "d", "--password", "p"}, "needs --username and --domain"},
		{[]string{"tail", "--source", "callevents", "--endpoint", "https://pbx.example", "--username", "u", "--domain", "d"}, "CALLEVENTS_PASSWORD"},
		{[]string{"tail", "--source", "callevents", "--endpoint", "pbx.example:9443", "--username", "u", "--domain", "d", "--password", "p"}, "want a URL such as https://pbx.example.com"},
		{[]string{"tail", "--source", "callevents", "--endpoint", "https://pbx.example", "--username", "u", "--domain", "d", "--password", "p", "--partitions", "1-2"}, "--partitions applies to --source cisco, not callevents"},
		{[]string{"top", "--source", "octave", "--company", "co", "--token", "t", "--stream", "/co/x", "--receivers", "2"}, "--receivers applies to --source cisco"},
	} {
		r := runCmd(t, tt.args...)
		if r.code != exitUsage || !strings.Contains(r.stderr, tt.want) {
			t.Errorf("%q: exit %d, stderr %q; want 2 and %q", tt.args, r.code, r.stderr, tt.want)
		}
	}
}
