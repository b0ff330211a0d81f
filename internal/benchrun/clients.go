package benchrun

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"

	"github.com/firehose-go/firehose"
	"github.com/firehose-go/firehose/proto/firehosev1"
)

// The clients under test. Each reads the mock's history from its oldest
// event until it has counted n events, then hangs up. Every one does the
// least its kind must do, and nothing measured is spent on bookkeeping
// beyond a counter (and, for the SDK, a fingerprint to prove correctness).

// Client names.
const (
	Raw      = "raw"      // the transport alone: bytes read and thrown away
	Naive    = "naive"    // the way public samples do it
	Owned    = "owned"    // this SDK: Client.Run, owned events
	Borrowed = "borrowed" // this SDK: Client.RunBorrowed
	Tail     = "tail"     // the CLI's tail, stdout to a file
)

// Transport names.
const (
	HTTP = "http"
	WS   = "ws"
	// WSUnbatched is WebSocket from a server that writes every frame with
	// its own write(2) (the mock behind a relay): the reader wakes up per
	// frame unless it coalesces its reads. WS's mock batches what is ready.
	WSUnbatched = "ws-unbatched"
	GRPC        = "grpc"
)

// result is what one pass counted.
type result struct {
	events    int64 // events (lines, messages, records) read
	delivered int64 // naive: events handed over after its dedupe on recordUid
	xor, sum  uint64
	digest    bool  // xor and sum were computed
	bytes     int64 // bytes read, when the client sees them (0: unknown)
	// A peer's pass ran in its own process (see runPeer): its wall time,
	// its CPU (start-up excluded) and the start-up CPU left out.
	peer                bool
	wall, cpu, startCPU time.Duration
}

type runFunc func(ctx context.Context, m *Mock, n int64) (result, error)

// errDone stops an SDK run once it has counted what it came for.
var errDone = errors.New("benchrun: done")

// errSkip marks a row that cannot run here (the mock lacks what it needs, or
// its probe failed); the table shows the reason instead of figures.
type errSkip struct{ reason error }

func (e *errSkip) Error() string { return "skipped: " + e.reason.Error() }
func (e *errSkip) Unwrap() error { return e.reason }

// fingerprint hashes (uid, ts) for the correctness digest: FNV-1a 64 over
// the uid, the timestamp mixed in, a splitmix64 finish. Generic so that
// neither an owned string nor a borrowed []byte is converted (no allocation).
func fingerprint[T string | []byte](id T, ts int64) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(id); i++ {
		h = (h ^ uint64(id[i])) * 1099511628211
	}
	h ^= uint64(ts) * 0x9E3779B97F4A7C15
	h ^= h >> 30
	h *= 0xBF58476D1CE4E5B9
	h ^= h >> 27
	h *= 0x94D049BB133111EB
	h ^= h >> 31
	return h
}

// ---- HTTP ----

func httpGet(ctx context.Context, m *Mock) (*http.Response, *http.Transport, error) {
	tr := &http.Transport{DisableCompression: true}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, m.eventsURL(""), nil)
	if err != nil {
		return nil, nil, err
	}
	req.Header.Set("X-API-Key", m.Key)
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		tr.CloseIdleConnections()
		return nil, nil, err
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		tr.CloseIdleConnections()
		return nil, nil, fmt.Errorf("status %s", resp.Status)
	}
	return resp, tr, nil
}

// httpRaw is the limit: GET, then read and throw away, counting newlines.
func httpRaw(ctx context.Context, m *Mock, n int64) (result, error) {
	resp, tr, err := httpGet(ctx, m)
	if err != nil {
		return result{}, err
	}
	defer tr.CloseIdleConnections()
	defer resp.Body.Close()
	var r result
	buf := make([]byte, 256<<10)
	for r.events < n {
		k, err := resp.Body.Read(buf)
		r.events += int64(bytes.Count(buf[:k], []byte{'\n'}))
		r.bytes += int64(k)
		if err != nil {
			return r, err
		}
	}
	return r, nil
}

// naiveEvent is what a sample handler gets: a generic map.
type naiveSink struct {
	seen      map[string]bool
	lines     int64
	delivered int64
}

// handle is the body of a typical sample: decode into map[string]any, skip
// keep-alives, dedupe on recordUid in an unbounded map, hand it over.
func (s *naiveSink) handle(line []byte) {
	var ev map[string]any
	if err := json.Unmarshal(line, &ev); err != nil {
		return
	}
	if ev["eventType"] == "KEEP_ALIVE" {
		return
	}
	s.lines++
	uid, _ := ev["recordUid"].(string)
	if s.seen[uid] {
		return
	}
	s.seen[uid] = true
	s.delivered++
}

// httpNaive is bufio.Scanner + json.Unmarshal into a map + a map dedupe.
func httpNaive(ctx context.Context, m *Mock, n int64) (result, error) {
	resp, tr, err := httpGet(ctx, m)
	if err != nil {
		return result{}, err
	}
	defer tr.CloseIdleConnections()
	defer resp.Body.Close()
	s := naiveSink{seen: map[string]bool{}}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 8<<20)
	for s.lines < n && sc.Scan() {
		s.handle(sc.Bytes())
	}
	r := result{events: s.lines, delivered: s.delivered}
	if s.lines < n {
		return r, fmt.Errorf("stream ended after %d events: %v", s.lines, sc.Err())
	}
	return r, nil
}

// ---- WebSocket ----

func wsDial(ctx context.Context, m *Mock) (*websocket.Conn, error) {
	d := websocket.Dialer{ReadBufferSize: 32 << 10, WriteBufferSize: 4 << 10}
	h := http.Header{}
	h.Set("X-API-Key", m.Key)
	c, resp, err := d.DialContext(ctx, m.eventsURL("ws"), h)
	if err != nil {
		if resp != nil {
			return nil, fmt.Errorf("ws handshake: %s", resp.Status)
		}
		return nil, err
	}
	// The stream ends by our hand: make the read fail when ctx ends.
	context.AfterFunc(ctx, func() { c.NetConn().Close() })
	return c, nil
}

// wsRaw is a plain ReadMessage loop.
func wsRaw(ctx context.Context, m *Mock, n int64) (result, error) {
	c, err := wsDial(ctx, m)
	if err != nil {
		return result{}, err
	}
	defer c.Close()
	var r result
	for r.events < n {
		_, msg, err := c.ReadMessage()
		if err != nil {
			return r, err
		}
		r.events++
		r.bytes += int64(len(msg))
	}
	return r, nil
}

// wsNaive is ReadMessage + json.Unmarshal into a map + a map dedupe.
func wsNaive(ctx context.Context, m *Mock, n int64) (result, error) {
	c, err := wsDial(ctx, m)
	if err != nil {
		return result{}, err
	}
	defer c.Close()
	s := naiveSink{seen: map[string]bool{}}
	for s.lines < n {
		_, msg, err := c.ReadMessage()
		if err != nil {
			return result{events: s.lines, delivered: s.delivered}, err
		}
		s.handle(msg)
	}
	return result{events: s.lines, delivered: s.delivered}, nil
}

// unbatched runs f against the mock's relay that writes one frame per
// write(2).
func unbatched(f runFunc) runFunc {
	return func(ctx context.Context, m *Mock, n int64) (result, error) {
		if m.UnbatchedURL == "" {
			return result{}, &errSkip{errors.New("the mock has no unbatched relay")}
		}
		return f(ctx, &Mock{URL: m.UnbatchedURL, Key: m.Key, Expect: m.Expect, Spec: m.Spec}, n)
	}
}

// ---- gRPC ----

// grpcRaw is a plain Recv loop with the standard codec.
func grpcRaw(ctx context.Context, m *Mock, n int64) (result, error) {
	cc, err := grpc.NewClient(m.hostPort(),
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(16<<20)))
	if err != nil {
		return result{}, err
	}
	defer cc.Close()
	ctx, cancel := context.WithCancel(metadata.AppendToOutgoingContext(ctx, "x-api-key", m.Key))
	defer cancel()
	st, err := firehosev1.NewFirehoseClient(cc).GetEvents(ctx, &firehosev1.EventsStreamRequest{
		MinPartition: 1, MaxPartition: 12, FromTimestamp: m.Expect.From,
	})
	if err != nil {
		return result{}, err
	}
	var r result
	for r.events < n {
		rec, err := st.Recv()
		if err != nil {
			return r, err
		}
		if rec.GetEventType() == firehosev1.EventType_KEEP_ALIVE {
			continue
		}
		r.events++
	}
	return r, nil
}

// ---- the SDK ----

func sdkClient(m *Mock, t firehose.Transport) (*firehose.Client, error) {
	return firehose.New(
		firehose.WithEndpoint(m.URL),
		firehose.WithAPIKey(m.Key),
		firehose.WithTransport(t),
		firehose.WithStartMillis(m.Expect.From),
	)
}

// tally counts the events an SDK row receives and digests their identity,
// stopping the run once it has n.
type tally struct {
	r result
	n int64
}

func (t *tally) add(fp uint64) error {
	t.r.xor ^= fp
	t.r.sum += fp
	t.r.events++
	if t.r.events == t.n {
		return errDone
	}
	return nil
}

func sdkOwned(tr firehose.Transport) runFunc {
	return func(ctx context.Context, m *Mock, n int64) (result, error) {
		c, err := sdkClient(m, tr)
		if err != nil {
			return result{}, err
		}
		t := tally{r: result{digest: true}, n: n}
		err = c.Run(ctx, func(_ context.Context, ev *firehose.Event) error {
			return t.add(fingerprint(ev.ID(), ev.Timestamp()))
		})
		if errors.Is(err, errDone) {
			err = nil
		}
		return t.r, err
	}
}

func sdkBorrowed(tr firehose.Transport) runFunc {
	return func(ctx context.Context, m *Mock, n int64) (result, error) {
		c, err := sdkClient(m, tr)
		if err != nil {
			return result{}, err
		}
		t := tally{r: result{digest: true}, n: n}
		err = c.RunBorrowed(ctx, func(_ context.Context, ev *firehose.BorrowedEvent) error {
			return t.add(fingerprint(ev.ID(), ev.Timestamp()))
		})
		if errors.Is(err, errDone) {
			err = nil
		}
		return t.r, err
	}
}

// ---- the CLI ----

// TailArgs is what the bench asks of the CLI's tail.
type TailArgs struct {
	Endpoint  string
	Key       string
	Transport string
	From      int64 // epoch ms (--from)
	Count     int64 // --count
	Out       io.Writer
}

// TailFunc runs the CLI's tail in this process, its stdout going to Out.
type TailFunc func(ctx context.Context, a TailArgs) error

// lineCounter counts the newlines written through it.
type lineCounter struct {
	w     io.Writer
	lines atomic.Int64
	bytes atomic.Int64
}

func (l *lineCounter) Write(p []byte) (int, error) {
	l.lines.Add(int64(bytes.Count(p, []byte{'\n'})))
	l.bytes.Add(int64(len(p)))
	return l.w.Write(p)
}

func tailRun(tail TailFunc, transport string, out func() (io.Writer, func() error, error)) runFunc {
	return func(ctx context.Context, m *Mock, n int64) (result, error) {
		w, closeOut, err := out()
		if err != nil {
			return result{}, err
		}
		lc := &lineCounter{w: w}
		err = tail(ctx, TailArgs{Endpoint: m.URL, Key: m.Key, Transport: transport, From: m.Expect.From, Count: n, Out: lc})
		if cerr := closeOut(); err == nil {
			err = cerr
		}
		return result{events: lc.lines.Load(), bytes: lc.bytes.Load()}, err
	}
}
