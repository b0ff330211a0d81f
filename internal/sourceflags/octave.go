package sourceflags

import (
	"errors"
	"fmt"
	"regexp"

	"github.com/firehose-go/firehose"
	"github.com/firehose-go/firehose/octave"
)

// streamRef is what --stream takes: an id or a path.
var streamRef = regexp.MustCompile(`^(s[0-9a-f]{24}|/[^/\x00-\x1f].*)$`)

// octave builds --source octave: octave.Config from the flags.
func (f *Flags) octave(b *Built, env Env) error {
	if f.company == "" {
		return errors.New("--source octave needs --company, the company of the token, such as my-co")
	}
	token := f.token
	if token == "" {
		token = env.Getenv(EnvOctaveToken)
	}
	if token == "" {
		return fmt.Errorf("no Octave token: pass --token or set %s", EnvOctaveToken)
	}
	if len(f.streams) == 0 {
		return errors.New("--source octave needs --stream: a stream id (s + 24 hex digits) or a path (/my-co/devices/d1/cpu); repeat it for more")
	}
	for _, name := range f.streams {
		if !streamRef.MatchString(name) {
			return fmt.Errorf("--stream %q: want a stream id (s + 24 hex digits) or a path starting with /, such as /%s/devices/d1/cpu", name, f.company)
		}
	}
	streams, err := octave.NewStreams(f.streams...)
	if err != nil {
		return fmt.Errorf("--stream: want a stream id (s + 24 hex digits) or a path starting with / (%s)", trimSource(err, "octave: "))
	}
	if f.heartbeat <= 0 {
		return fmt.Errorf("--heartbeat %v: want a positive duration such as 10s", f.heartbeat)
	}
	cfg := octave.Config{Company: f.company, User: f.user, Token: token, Streams: streams, GapFill: f.gapFill, Heartbeat: f.heartbeat}
	if f.Endpoint != "" {
		if _, err := ParseEndpoint("--endpoint", f.Endpoint, octave.DefaultEndpoint); err != nil {
			return err
		}
		cfg.Endpoint = f.Endpoint
	}
	if f.rest != "" {
		if _, err := ParseEndpoint("--rest-endpoint", f.rest, octave.DefaultREST); err != nil {
			return err
		}
		cfg.REST = f.rest
	}
	spec, err := octave.Spec(cfg)
	if err != nil {
		return errors.New(trimSource(err, "octave: "))
	}
	b.Options = append(b.Options, firehose.WithSource(spec))
	if f.CA != "" {
		tc, err := LoadCA(f.CA)
		if err != nil {
			return err
		}
		b.Options = append(b.Options, firehose.WithTLSConfig(tc))
	}
	b.Where = f.company
	return nil
}
