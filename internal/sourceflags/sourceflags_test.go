package sourceflags

import (
	"flag"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/firehose-go/firehose"
)

func TestParseFrom(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		in      string
		want    int64
		wantErr string
	}{
		{"", 0, ""},
		{"0", 0, ""},
		{"1777636800000", 1777636800000, ""},
		{" 1777636800000 ", 1777636800000, ""},
		{"10m", now.Add(-10 * time.Minute).UnixMilli(), ""},
		{"1h30m", now.Add(-90 * time.Minute).UnixMilli(), ""},
		{"1.5s", now.Add(-1500 * time.Millisecond).UnixMilli(), ""},
		{"2026-05-01T11:50:00Z", now.Add(-10 * time.Minute).UnixMilli(), ""},
		{"2026-05-01T13:50:00.250+02:00", now.Add(-10*time.Minute + 250*time.Millisecond).UnixMilli(), ""},
		{"1777636800", 0, "looks like seconds"},
		{"-5", 0, "milliseconds"},
		{"-10m", 0, "positive duration"},
		{"0s", 0, "positive duration"},
		{"2026-05-02T12:00:00Z", 0, "future"},
		{"1777723200000", 0, "future"},
		{"1969-12-31T23:00:00Z", 0, "1970"},
		{"yesterday", 0, "want epoch milliseconds"},
		{"2026-05-01", 0, "want epoch milliseconds"},
	}
	for _, tt := range tests {
		got, err := ParseFrom(tt.in, now)
		switch {
		case tt.wantErr != "":
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParseFrom(%q) = %d, %v; want an error mentioning %q", tt.in, got, err, tt.wantErr)
			}
		case err != nil || got != tt.want:
			t.Errorf("ParseFrom(%q) = %d, %v; want %d", tt.in, got, err, tt.want)
		}
	}
}

func build(t *testing.T, env map[string]string, args ...string) (*Built, error) {
	t.Helper()
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	f := Register(fs)
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	return f.Build(Env{Now: time.Now(), Getenv: func(k string) string { return env[k] }})
}

func TestBuildCisco(t *testing.T) {
	t.Parallel()
	env := map[string]string{EnvAPIKey: "k", EnvEndpoint: "http://127.0.0.1:9/", EnvTransport: "grpc"}
	b, err := build(t, env)
	if err != nil {
		t.Fatal(err)
	}
	if b.Source != Cisco || b.Transport != firehose.TransportGRPC || b.CheckpointName() != "cisco/127.0.0.1:9/1-12" {
		t.Errorf("from the environment: %+v, %s", b, b.CheckpointName())
	}
	// Flags win over the environment; --region replaces $FIREHOSE_ENDPOINT.
	b, err = build(t, env, "--region", "eu", "--transport", "ws", "--receiver", "1/4")
	if err != nil {
		t.Fatal(err)
	}
	if b.Transport != firehose.TransportWebSocket || b.CheckpointName() != "cisco/eu/4-6" {
		t.Errorf("flags: %+v, %s", b, b.CheckpointName())
	}
	if _, err := firehose.New(b.Options...); err != nil {
		t.Errorf("New: %v", err)
	}
}

func TestBuildErrors(t *testing.T) {
	t.Parallel()
	key := map[string]string{EnvAPIKey: "k"}
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--endpoint", "127.0.0.1:18080"}, "want a URL such as"},
		{[]string{"--endpoint", "localhost:8080"}, "want a URL such as"},
		{[]string{"--endpoint", "https://"}, "want a URL such as"},
		{[]string{"--endpoint", "https://u:p@host"}, "no credentials"},
		{[]string{"--token", "t"}, "--token applies to --source octave, not cisco"},
		{[]string{"--source", "octave", "--key", "k"}, "--key applies to --source cisco, not octave"},
		{[]string{"--source", "callevents", "--gap-fill"}, "--gap-fill applies to --source octave, not callevents"},
		{[]string{"--partitions", "0-13"}, "want MIN-MAX within 1-12"},
		{[]string{"--receiver", "4/4"}, "want I/N with 0 <= I < N <= 12"},
		{[]string{"--idle-timeout", "-1s"}, "--idle-timeout -1s: want a positive duration"},
		{[]string{"--ca", "/nonexistent"}, "--ca"},
		{[]string{"--endpoint", "http://127.0.0.1:1", "--ca", "x.pem"}, "plain http://"},
	} {
		_, err := build(t, key, tt.args...)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q: %v, want %q", tt.args, err, tt.want)
		}
	}
	if _, err := build(t, nil); err == nil || !strings.Contains(err.Error(), "FIREHOSE_API_KEY") {
		t.Errorf("no key: %v", err)
	}
	if _, err := build(t, key, "--idle-timeout", "5"); err == nil || !strings.Contains(err.Error(), "want a duration such as 5s") {
		t.Errorf("bad duration: %v", err)
	}
}
