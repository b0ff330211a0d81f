// Package target decides where an example program connects, so that no
// example ever sends a key to a real firehose unless asked to:
//
//   - by default, an in-process firehosetest mock (no key, no network);
//   - -endpoint URL: that server (a `firehose mock` of your own), with the
//     mock's key test-key or -key; $FIREHOSE_API_KEY is never read;
//   - -real: Cisco Spaces (-region io, eu or sg, or -endpoint), with the key
//     in $FIREHOSE_API_KEY.
package target

import (
	"errors"
	"flag"
	"fmt"
	"os"

	"github.com/firehose-go/firehose"
	"github.com/firehose-go/firehose/firehosetest"
)

// Target holds the flags.
type Target struct {
	Endpoint string
	Real     bool
	Region   string
	Key      string
}

// Flags registers -endpoint, -key, -real and -region on fs (flag.CommandLine
// when nil).
func Flags(fs *flag.FlagSet) *Target {
	if fs == nil {
		fs = flag.CommandLine
	}
	t := &Target{}
	fs.StringVar(&t.Endpoint, "endpoint", "", "server URL, such as http://127.0.0.1:8080 (default: a mock in this process)")
	fs.StringVar(&t.Key, "key", firehosetest.DefaultAPIKey, "API key for -endpoint (a mock's; with -real the key comes from $FIREHOSE_API_KEY)")
	fs.BoolVar(&t.Real, "real", false, "connect to Cisco Spaces with the key in $FIREHOSE_API_KEY")
	fs.StringVar(&t.Region, "region", "io", "Cisco region with -real: io, eu or sg")
	return t
}

// Mock reports whether the example runs against its own in-process mock.
func (t *Target) Mock() bool { return !t.Real && t.Endpoint == "" }

// Options returns the client options that reach the target. For the
// in-process mock it starts one with mockOpts; the caller closes it (srv is
// nil otherwise).
func (t *Target) Options(mockOpts ...firehosetest.Option) (opts []firehose.Option, srv *firehosetest.Server, err error) {
	switch {
	case t.Real:
		key := os.Getenv("FIREHOSE_API_KEY")
		if key == "" {
			return nil, nil, errors.New("-real needs the key in $FIREHOSE_API_KEY")
		}
		opts = []firehose.Option{firehose.WithAPIKey(key)}
		if t.Endpoint != "" {
			return append(opts, firehose.WithEndpoint(t.Endpoint)), nil, nil
		}
		return append(opts, firehose.WithRegion(firehose.Region(t.Region))), nil, nil
	case t.Endpoint != "":
		if t.Key == "" {
			return nil, nil, fmt.Errorf("-endpoint %s: -key is empty", t.Endpoint)
		}
		return []firehose.Option{firehose.WithEndpoint(t.Endpoint), firehose.WithAPIKey(t.Key)}, nil, nil
	}
	srv = firehosetest.NewServer(mockOpts...)
	return []firehose.Option{firehose.WithEndpoint(srv.URL), firehose.WithAPIKey(firehosetest.DefaultAPIKey)}, srv, nil
}
