// Package sourceflags is the command line of a firehose's source, shared by
// every command that reads one (firehose tail and top, firehose-pg,
// firehose-kafka): one set of flags, --source choosing which of them apply,
// environment fallbacks, and errors that say what a valid value looks like.
//
//	fs := flag.NewFlagSet("tail", flag.ContinueOnError)
//	sf := sourceflags.Register(fs)
//	fs.Parse(args)
//	b, err := sf.Build(sourceflags.Env{Now: time.Now(), Getenv: os.Getenv, Stderr: os.Stderr})
//	client, err := firehose.New(b.Options...)
package sourceflags

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/firehose-go/firehose"
)

// The sources --source chooses from.
const (
	Cisco      = "cisco"
	Octave     = "octave"
	CallEvents = "callevents"
)

// Sources lists the names --source accepts, the default first.
func Sources() []string { return []string{Cisco, Octave, CallEvents} }

// Environment variables read when the flag is not given.
const (
	EnvAPIKey             = "FIREHOSE_API_KEY"    // cisco --key
	EnvEndpoint           = "FIREHOSE_ENDPOINT"   // cisco --endpoint
	EnvTransport          = "FIREHOSE_TRANSPORT"  // cisco --transport
	EnvOctaveToken        = "OCTAVE_TOKEN"        // octave --token
	EnvCallEventsPassword = "CALLEVENTS_PASSWORD" // callevents --password
)

// Flags holds every source's flags once Register has put them on a flag set.
type Flags struct {
	fs *flag.FlagSet

	Source      string
	Endpoint    string
	IdleTimeout time.Duration
	CA          string
	RetryLimit  int
	Verbose     bool

	// cisco
	region, key, transport, partitions, receiver, from string

	// octave
	company, user, token, rest string
	streams                    listValue
	gapFill                    bool
	heartbeat                  time.Duration

	// callevents
	username, password, domain, accounts, events string
	tokenInQuery                                 bool
}

// owners says which source a source-specific flag belongs to; a flag not
// listed applies to every source.
var owners = map[string]string{
	"region": Cisco, "key": Cisco, "transport": Cisco, "partitions": Cisco, "receiver": Cisco, "from": Cisco,
	"company": Octave, "user": Octave, "token": Octave, "stream": Octave, "rest-endpoint": Octave, "gap-fill": Octave, "heartbeat": Octave,
	"username": CallEvents, "password": CallEvents, "domain": CallEvents, "accounts": CallEvents, "events": CallEvents, "token-in-query": CallEvents,
}

// Register puts the source flags on fs and returns where their values go.
func Register(fs *flag.FlagSet) *Flags {
	f := &Flags{fs: fs}
	fs.StringVar(&f.Source, "source", Cisco, "the firehose: "+strings.Join(Sources(), ", "))
	fs.StringVar(&f.Endpoint, "endpoint", "", "server `URL`, such as https://host or http://127.0.0.1:8080:\n"+
		"cisco: the firehose ("+firehose.DefaultEndpoint+", or $"+EnvEndpoint+"); the events path is appended when it has none\n"+
		"octave: the session host (https://octave-ws.sierrawireless.io): POST {URL}/session, then {URL}/session/{id}/ws\n"+
		"callevents: the PBX (port 9443 unless given): POST {URL}/ws/v1/firehose/login, then {URL}/ws/v1/firehose/callEvents\n"+
		"(http:// means a plain ws:// socket)")
	Duration(fs, &f.IdleTimeout, "idle-timeout", 0, "reconnect after `D` of silence, a duration such as 45s (default 45s)")
	fs.StringVar(&f.CA, "ca", "", "trust the PEM certificates in `FILE` (a private or mock TLS server)")
	fs.IntVar(&f.RetryLimit, "retry-limit", 0, "give up after `N` failed connection attempts in a row (default 0: never)")
	fs.BoolVar(&f.Verbose, "v", false, "log connects, reconnects, drops and gaps on stderr (and grpc-go's own log)")

	// cisco
	fs.StringVar(&f.region, "region", "", "cisco: Cisco `REGION`: io, eu or sg (instead of --endpoint)")
	fs.StringVar(&f.key, "key", "", "cisco: API `KEY` (default $"+EnvAPIKey+"; --key is visible in ps)")
	fs.StringVar(&f.transport, "transport", "", "cisco: `CHANNEL`: http, ws or grpc (default $"+EnvTransport+" or http)")
	fs.StringVar(&f.partitions, "partitions", "", "cisco: partition range `MIN-MAX` (default 1-12)")
	fs.StringVar(&f.receiver, "receiver", "", "cisco: be receiver `I/N`: I (0-based) of N, see 'firehose plan N' (instead of --partitions)")
	fs.StringVar(&f.from, "from", "", "cisco: replay from `WHEN`: epoch milliseconds, RFC 3339, or a duration ago such as 10m\n(default: live; a checkpoint wins once there is one)")

	// octave
	fs.StringVar(&f.company, "company", "", "octave: the `COMPANY` (required)")
	fs.StringVar(&f.user, "user", "", "octave: the `USER` of the token (leave empty with a restricted token)")
	fs.StringVar(&f.token, "token", "", "octave: the master `TOKEN` (default $"+EnvOctaveToken+")")
	fs.Var(&f.streams, "stream", "octave: a stream to consume, by `ID_OR_PATH` (s…, or a path starting with /); repeat for more (required)")
	fs.StringVar(&f.rest, "rest-endpoint", "", "octave: the REST host `URL` for --gap-fill (default https://octave-api.sierrawireless.io; /v5.0/{company}/event/… is appended)")
	fs.BoolVar(&f.gapFill, "gap-fill", false, "octave: back-fill what a reconnect missed over REST (default: each reconnect is a reported gap)")
	Duration(fs, &f.heartbeat, "heartbeat", 10*time.Second, "octave: send a heartbeat and a ping every `D`")

	// callevents
	fs.StringVar(&f.username, "username", "", "callevents: the login's `USER` (required)")
	fs.StringVar(&f.password, "password", "", "callevents: the login's `PASSWORD` (default $"+EnvCallEventsPassword+"; --password is visible in ps)")
	fs.StringVar(&f.domain, "domain", "", "callevents: the account's `DOMAIN` (required)")
	fs.StringVar(&f.accounts, "accounts", "", "callevents: only these account ids, `A,B` (default: the caller's account and its descendants)")
	fs.StringVar(&f.events, "events", "", "callevents: only these event names, `A,B` such as CHANNEL_ANSWER,CHANNEL_HANGUP (default: every event)")
	fs.BoolVar(&f.tokenInQuery, "token-in-query", false, "callevents: send the token in the socket URL rather than a header (ends up in access logs)")
	return f
}

// Env is what Build may take from its surroundings.
type Env struct {
	Now    time.Time
	Getenv func(string) string
	Stderr io.Writer // where -v logs go
}

// Built is a command line turned into client options.
type Built struct {
	Options   []firehose.Option
	Source    string             // cisco, octave or callevents
	Transport firehose.Transport // cisco's channel
	Range     firehose.Range     // cisco's partitions (all 12 for the other sources)
	// Where names the firehose for a checkpoint: the region or the
	// endpoint's host (cisco), the company (octave), the domain (callevents).
	Where string
}

// CheckpointName is SOURCE/WHERE/RANGE for cisco (cisco/eu/1-12) and
// SOURCE/WHERE for the others: the same firehose and range resume the same
// position.
func (b *Built) CheckpointName() string {
	if b.Source == Cisco {
		return b.Source + "/" + b.Where + "/" + b.Range.String()
	}
	return b.Source + "/" + b.Where
}

// given lists the flags set on the command line.
func (f *Flags) given() map[string]bool {
	m := map[string]bool{}
	f.fs.Visit(func(fl *flag.Flag) { m[fl.Name] = true })
	return m
}

// Build validates the flags of the chosen source, after the flag set was
// parsed, and turns them into options. Its errors are usage errors: one line
// that says what a valid value looks like.
func (f *Flags) Build(env Env) (*Built, error) {
	if env.Getenv == nil {
		env.Getenv = os.Getenv
	}
	if env.Now.IsZero() {
		env.Now = time.Now()
	}
	if !slices.Contains(Sources(), f.Source) {
		return nil, fmt.Errorf("--source %q: want %s", f.Source, strings.Join(Sources(), ", "))
	}
	given := f.given()
	var names []string
	for name := range given {
		if owner, ok := owners[name]; ok && owner != f.Source {
			names = append(names, name)
		}
	}
	if len(names) > 0 {
		slices.Sort(names)
		return nil, fmt.Errorf("--%s applies to --source %s, not %s", names[0], owners[names[0]], f.Source)
	}
	if f.IdleTimeout < 0 {
		return nil, fmt.Errorf("--idle-timeout %v: want a positive duration such as 45s", f.IdleTimeout)
	}
	if f.RetryLimit < 0 {
		return nil, fmt.Errorf("--retry-limit %d: want a count >= 0 (0: never give up)", f.RetryLimit)
	}
	b := &Built{Source: f.Source, Range: firehose.AllPartitions}
	var err error
	switch f.Source {
	case Cisco:
		err = f.cisco(b, env)
	case Octave:
		err = f.octave(b, env)
	case CallEvents:
		err = f.callEvents(b, env)
	}
	if err != nil {
		return nil, err
	}
	if f.IdleTimeout > 0 {
		b.Options = append(b.Options, firehose.WithIdleTimeout(f.IdleTimeout))
	}
	if f.RetryLimit > 0 {
		b.Options = append(b.Options, firehose.WithRetryLimit(f.RetryLimit))
	}
	if f.Verbose && env.Stderr != nil {
		b.Options = append(b.Options, firehose.WithLogger(slog.New(slog.NewTextHandler(env.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	}
	return b, nil
}

func (f *Flags) cisco(b *Built, env Env) error {
	endpoint := f.Endpoint
	switch {
	case endpoint != "" && f.region != "":
		return errors.New("--endpoint and --region are mutually exclusive")
	case endpoint == "" && f.region == "":
		endpoint = env.Getenv(EnvEndpoint)
	}
	b.Where = string(firehose.RegionGlobal)
	switch {
	case endpoint != "":
		u, err := ParseEndpoint("--endpoint", endpoint, "https://partners.ciscospaces.io")
		if err != nil {
			return err
		}
		b.Where = u.Host
		b.Options = append(b.Options, firehose.WithEndpoint(endpoint))
	case f.region != "":
		switch r := firehose.Region(f.region); r {
		case firehose.RegionGlobal, firehose.RegionEurope, firehose.RegionSingapore:
			b.Options = append(b.Options, firehose.WithRegion(r))
		default:
			return fmt.Errorf("--region %q: want io, eu or sg", f.region)
		}
		b.Where = f.region
	}
	key := f.key
	if key == "" {
		key = env.Getenv(EnvAPIKey)
	}
	if key == "" {
		return fmt.Errorf("no API key: pass --key or set %s", EnvAPIKey)
	}
	b.Options = append(b.Options, firehose.WithAPIKey(key))
	tr := f.transport
	if tr == "" {
		tr = env.Getenv(EnvTransport)
	}
	if tr == "" {
		tr = string(firehose.TransportHTTP)
	}
	switch t := firehose.Transport(tr); t {
	case firehose.TransportHTTP, firehose.TransportWebSocket, firehose.TransportGRPC:
		b.Transport = t
		b.Options = append(b.Options, firehose.WithTransport(t))
	default:
		return fmt.Errorf("--transport %q: want http, ws or grpc", tr)
	}
	switch {
	case f.partitions != "" && f.receiver != "":
		return errors.New("--partitions and --receiver are mutually exclusive")
	case f.partitions != "":
		r, err := firehose.ParseRange(f.partitions)
		if err != nil {
			return fmt.Errorf("--partitions %q: want MIN-MAX within 1-12, such as 1-6 (%v)", f.partitions, trimPrefix(err))
		}
		b.Range = r
		b.Options = append(b.Options, firehose.WithPartitions(r.Min, r.Max))
	case f.receiver != "":
		i, n, err := ParseReceiver(f.receiver)
		if err != nil {
			return err
		}
		b.Range, _ = firehose.Receiver(i, n)
		b.Options = append(b.Options, firehose.WithReceiver(i, n))
	}
	if f.from != "" {
		ms, err := ParseFrom(f.from, env.Now)
		if err != nil {
			return err
		}
		b.Options = append(b.Options, firehose.WithStartMillis(ms))
	}
	if f.CA != "" {
		if strings.HasPrefix(endpoint, "http://") {
			return errors.New("--ca: the endpoint is plain http://; use https:// to check certificates")
		}
		cfg, err := LoadCA(f.CA)
		if err != nil {
			return err
		}
		b.Options = append(b.Options, firehose.WithTLSConfig(cfg))
	}
	return nil
}

// ParseEndpoint checks a base URL given to flag: http or https, a host, no
// credentials. The error shows what a valid one looks like (example).
func ParseEndpoint(flag, s, example string) (*url.URL, error) {
	want := fmt.Sprintf("%s %q: want a URL such as %s or http://127.0.0.1:8080", flag, s, example)
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Opaque != "" {
		return nil, errors.New(want)
	}
	if u.User != nil {
		return nil, fmt.Errorf("%s: no credentials in the URL; use the source's own flags", flag)
	}
	return u, nil
}

// LoadCA makes a TLS configuration that trusts the PEM certificates in path.
func LoadCA(path string) (*tls.Config, error) {
	pool, err := loadPool(path)
	if err != nil {
		return nil, err
	}
	return &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}, nil
}

func loadPool(path string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("--ca: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("--ca %s: no PEM certificate found (want a file with -----BEGIN CERTIFICATE-----)", path)
	}
	return pool, nil
}

// trimPrefix drops the library's "firehose: " from an error's text, for a
// message that already says who speaks.
func trimPrefix(err error) string {
	return strings.TrimPrefix(err.Error(), "firehose: ")
}

// listValue is a repeatable flag; commas separate values too.
type listValue []string

func (l *listValue) String() string { return strings.Join(*l, ",") }

func (l *listValue) Set(s string) error {
	for v := range strings.SplitSeq(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			*l = append(*l, v)
		}
	}
	return nil
}

// splitList splits "a, b,c" into its non-empty parts.
func splitList(s string) []string {
	var out []string
	for v := range strings.SplitSeq(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// trimSource drops a source package's own prefix ("octave: ") from an
// error's text.
func trimSource(err error, prefix string) string {
	return strings.TrimPrefix(err.Error(), prefix)
}
