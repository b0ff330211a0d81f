package firehose

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/firehose-go/firehose/proto/firehosev1"
)

// The gRPC channel: the server stream Firehose.GetEvents, called by its wire
// path (/firehose_api_v1.Firehose/GetEvents), on a ClientConn of the
// receiver's own.
//
// The files of the channel: this one holds the connector and the stream
// (grpcConn); grpc_record.go the raw codec, the envelope scan and the owned
// Event; grpc_render.go the JSON rendering straight from the wire;
// grpc_status.go the mapping of a status to the engine's errors;
// grpc_unary.go Client.GRPCConn for the unary RPCs.
//
// Decoding. By default a record is not decoded when it arrives: the raw
// codec of grpc_record.go (forced per call, never registered, so the process-wide "proto"
// codec is untouched) keeps the message bytes, and the envelope (fields 1 to
// 6) is read from them with protowire; the payload is decoded only when the
// caller asks for it (Event.Record, JSON, Payload, Decode). The standard
// codec (the record decoded in full by grpc-go's proto codec) is kept as
// grpcConnector.eager, a test and benchmark path.
//
// Ownership. A frame's raw bytes are the stream's reused buffer, valid
// until the next Next (RunBorrowed reads them in place); the owned Event
// copies them once and views its envelope in the copy. The standard codec's
// decoded record is fresh per message and handed over as it is; its
// envelope's bytes point into its strings or into descriptor strings, all
// immutable.

const (
	grpcStreamWindow = 4 << 20  // initial flow-control window per stream
	grpcConnWindow   = 16 << 20 // and per connection
	// grpcRecvSlack is how far above the max event size a message is still
	// read (and skipped as oversized, the stream going on); past that hard
	// cap grpc-go itself refuses it and ends the stream. It bounds memory.
	grpcRecvSlack = 16 << 20
	// grpcKeepBuffer is the largest record buffer a stream keeps for the
	// next message.
	grpcKeepBuffer = 1 << 20
)

// grpcConnector holds one receiver's ClientConn (its own TCP connection).
type grpcConnector struct {
	cfg    *config
	target string
	dopts  []grpc.DialOption
	copts  []grpc.CallOption
	codec  *rawCodec
	hs     *handshakeWatch
	eager  bool // the standard codec: each record decoded in full on arrival
	limit  int  // the receive cap given to grpc-go

	mu     sync.Mutex
	cc     *grpc.ClientConn
	fresh  bool // the next connect makes a new ClientConn (after an idle timeout)
	closed bool
}

func newGRPCConnector(cfg *config) (*grpcConnector, error) {
	return newGRPCConnectorOpts(cfg, grpcTuning{windows: true})
}

// grpcTuning are the knobs the tests and benchmarks compare; the defaults are
// the envelope scan and the larger windows.
type grpcTuning struct {
	eager   bool // the standard codec instead of the envelope scan
	windows bool // larger initial flow-control windows
	limit   int  // the receive cap, when not 0 (tests)
}

func newGRPCConnectorOpts(cfg *config, tune grpcTuning) (*grpcConnector, error) {
	target, dopts, hs := grpcDialOptions(cfg, tune.windows)
	g := &grpcConnector{cfg: cfg, target: target, dopts: dopts, hs: hs, eager: tune.eager}
	if tune.eager {
		// grpc-go's registered proto codec; a message above the max event size
		// ends the stream (reported as an oversized frame).
		g.limit = cfg.maxEvent
	} else {
		g.limit = grpcRecvLimit(cfg.maxEvent)
		g.codec = &rawCodec{max: cfg.maxEvent}
		g.copts = []grpc.CallOption{grpc.ForceCodecV2(g.codec)}
	}
	if tune.limit > 0 {
		g.limit = tune.limit
	}
	g.copts = append(g.copts, grpc.MaxCallRecvMsgSize(g.limit))
	return g, nil
}

func grpcRecvLimit(maxEvent int) int {
	return int(min(int64(maxEvent)+int64(max(maxEvent, grpcRecvSlack)), math.MaxInt32))
}

// grpcDialOptions derives the target and dial options from the config:
// host:port (443 for https, 80 for http), TLS from a clone of the TLS config
// (system roots by default), plaintext only for an http:// endpoint, the key
// as x-api-key metadata on every call, no client keepalive pings.
func grpcDialOptions(cfg *config, windows bool) (string, []grpc.DialOption, *handshakeWatch) {
	u := cfg.endpoint
	port := u.Port()
	if port == "" {
		port = "443"
		if u.Scheme == "http" {
			port = "80"
		}
	}
	target := net.JoinHostPort(u.Hostname(), port)
	secure := u.Scheme == "https"
	var hs *handshakeWatch
	var creds credentials.TransportCredentials
	if secure {
		tc := &tls.Config{MinVersion: tls.VersionTLS12}
		if cfg.tlsConfig != nil {
			tc = cfg.tlsConfig.Clone()
		}
		hs = &handshakeWatch{TransportCredentials: credentials.NewTLS(tc), err: new(atomic.Pointer[error])}
		creds = hs
	} else {
		creds = insecure.NewCredentials()
	}
	opts := []grpc.DialOption{
		grpc.WithTransportCredentials(creds),
		grpc.WithUserAgent(userAgent),
		// grpc-go's own reconnect backoff follows the engine's, so a server
		// that is back is reached as soon as the engine retries.
		grpc.WithConnectParams(grpc.ConnectParams{
			Backoff:           backoff.Config{BaseDelay: cfg.backoffInitial, Multiplier: 1.6, Jitter: 0.2, MaxDelay: cfg.backoffMax},
			MinConnectTimeout: defaultHandshakeDeadline,
		}),
		// No WithKeepaliveParams: client pings stay off (KEEP_ALIVE records are
		// the liveness signal; pings below a server's floor earn GOAWAYs). A
		// silent connection is handled by the idle timeout, which also
		// replaces the ClientConn (see grpcConn.close).
	}
	if windows {
		opts = append(opts, grpc.WithInitialWindowSize(grpcStreamWindow), grpc.WithInitialConnWindowSize(grpcConnWindow))
	}
	if cfg.key != "" {
		opts = append(opts, grpc.WithPerRPCCredentials(apiKeyCreds{md: map[string]string{"x-api-key": string(cfg.key)}, secure: secure}))
	}
	if cfg.dial != nil {
		dial := cfg.dial
		opts = append(opts, grpc.WithContextDialer(func(ctx context.Context, addr string) (net.Conn, error) {
			return dial(ctx, "tcp", addr)
		}))
		// The dialer resolves the name itself (it may be an in-memory network).
		target = "passthrough:///" + target
	}
	return target, opts, hs
}

// clientConn returns the connector's ClientConn, making it on first use (and
// again after an idle timeout). grpc.NewClient does no I/O.
func (g *grpcConnector) clientConn() (*grpc.ClientConn, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return nil, ErrClosed
	}
	if g.cc != nil && g.fresh {
		g.cc.Close()
		g.cc = nil
	}
	g.fresh = false
	if g.cc == nil {
		cc, err := grpc.NewClient(g.target, g.dopts...)
		if err != nil {
			return nil, fatalf("grpc: %w", err)
		}
		g.cc = cc
	}
	return g.cc, nil
}

func (g *grpcConnector) Close() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.closed = true
	if g.cc != nil {
		g.cc.Close()
		g.cc = nil
	}
	return nil
}

func (g *grpcConnector) Connect(ctx context.Context, req ConnectRequest) (Conn, error) {
	cc, err := g.clientConn()
	if err != nil {
		return nil, err
	}
	sctx, cancel := context.WithCancel(ctx)
	desc := &grpc.StreamDesc{StreamName: "GetEvents", ServerStreams: true}
	cs, err := cc.NewStream(sctx, desc, firehosev1.FullMethodGetEvents, g.copts...)
	if err == nil {
		err = cs.SendMsg(streamRequest(req, g.cfg))
		if errors.Is(err, io.EOF) {
			err = nil // the server has ended the stream already: its status comes below
		}
	}
	if err == nil {
		err = cs.CloseSend()
	}
	var md metadata.MD
	if err == nil {
		// Wait for the response headers, so a refusal (a bad key) fails
		// connect and Open returns it.
		md, _ = cs.Header()
		if md == nil {
			// Ended before any header: a Trailers-Only status or a transport error.
			err = cs.RecvMsg(g.newMsg())
			if err == nil {
				err = io.EOF
			}
			md = cs.Trailer()
		}
	}
	if err != nil {
		cancel()
		return nil, g.connectError(ctx, err, md)
	}
	c := &grpcConn{g: g, cs: cs, ctx: sctx, cancel: cancel, names: newRecordNames()}
	if v := md.Get("date"); len(v) > 0 {
		if d, err := http.ParseTime(v[0]); err == nil {
			c.date = d
		}
	}
	return c, nil
}

func (g *grpcConnector) newMsg() any {
	if g.eager {
		return new(firehosev1.EventRecord)
	}
	return new(rawRecord)
}

func streamRequest(req ConnectRequest, cfg *config) *firehosev1.EventsStreamRequest {
	in := &firehosev1.EventsStreamRequest{
		MinPartition:  int32(req.Range.Min),
		MaxPartition:  int32(req.Range.Max),
		FromTimestamp: req.From,
	}
	if cfg.hasReplica {
		// proto3 does not send a 0: replicaId 0 reads as "not set" on this channel.
		in.ReplicaId = int32(cfg.replicaID)
	}
	return in
}

// connectError maps a failed attempt: an untrusted certificate is fatal, a
// status becomes a *StatusError, and a cancellation is returned as is (the
// engine reads its cause).
func (g *grpcConnector) connectError(ctx context.Context, err error, md metadata.MD) error {
	if ctx.Err() != nil {
		g.noteCancel(ctx)
		return err
	}
	if status.Code(err) == codes.Unavailable && g.hs != nil {
		if herr := g.hs.last(); herr != nil {
			if ferr := classifyDialError(herr); errors.Is(ferr, ErrFatal) {
				return ferr
			}
		}
	}
	return grpcError(err, md, g.cfg.now())
}

// noteCancel makes the next connect use a new ClientConn when the engine
// gave up on this one for silence: a half-dead TCP connection would
// otherwise carry the next stream too (client pings are off).
func (g *grpcConnector) noteCancel(ctx context.Context) {
	if errors.Is(context.Cause(ctx), ErrIdleTimeout) {
		g.mu.Lock()
		g.fresh = true
		g.mu.Unlock()
	}
}

// grpcConn is one GetEvents stream.
type grpcConn struct {
	g      *grpcConnector
	cs     grpc.ClientStream
	ctx    context.Context
	cancel context.CancelFunc
	date   time.Time
	msg    rawRecord
	buf    []byte // the raw codec's buffer, reused from message to message
	dead   error  // the stream is over (after an oversized message grpc-go refused)
	names  *recordNames
}

func (c *grpcConn) Next(f *Frame) error {
	if c.dead != nil {
		return c.dead
	}
	if c.g.eager {
		return c.nextEager(f)
	}
	if cap(c.buf) > grpcKeepBuffer {
		c.buf = nil // a rare large record: not kept for the rest of the stream
	}
	c.msg = rawRecord{b: c.buf[:0]}
	if err := c.cs.RecvMsg(&c.msg); err != nil {
		return c.fail(err)
	}
	if c.msg.over > 0 {
		return &FrameError{Reason: DropOversized, Size: c.msg.over}
	}
	f.Raw, f.cisco.format, f.cisco.record = c.msg.b, formatProto, nil
	c.buf = c.msg.b // reused by the next message: the engine copies what it keeps
	if err := scanRecord(f.Raw, &f.cisco.env, c.names); err != nil {
		return &FrameError{Reason: DropMalformed, Size: len(f.Raw), Err: err}
	}
	f.publish()
	return nil
}

// nextEager is the standard codec's path: the record is decoded in full, the
// envelope read from its fields.
func (c *grpcConn) nextEager(f *Frame) error {
	rec := new(firehosev1.EventRecord)
	if err := c.cs.RecvMsg(rec); err != nil {
		return c.fail(err)
	}
	if err := fillEagerEnvelope(f, rec, c.names); err != nil {
		return &FrameError{Reason: DropMalformed, Err: err}
	}
	f.publish()
	return nil
}

// fail maps the error that ended the stream.
func (c *grpcConn) fail(err error) error {
	if c.ctx.Err() != nil {
		c.g.noteCancel(c.ctx)
		return err // the engine's own cancellation: it reads the cause
	}
	if errors.Is(err, io.EOF) {
		return io.EOF // the server ended the stream cleanly (status OK)
	}
	if n, ok := localTooLarge(err); ok {
		// grpc-go refused a message above the receive cap and ended the
		// stream: count the message as oversized, then reconnect.
		c.dead = fmt.Errorf("firehose: grpc: stream ended after a message of %d bytes: %w: %w", n, ErrHardCap, err)
		return &FrameError{Reason: DropOversized, Size: n, Err: err}
	}
	return grpcError(err, c.cs.Trailer(), c.g.cfg.now())
}

func (c *grpcConn) ServerTime() time.Time { return c.date }

func (c *grpcConn) Close() error {
	c.cancel()
	c.g.noteCancel(c.ctx)
	return nil
}

// apiKeyCreds sends the key as x-api-key metadata on every call.
type apiKeyCreds struct {
	md     map[string]string
	secure bool
}

func (k apiKeyCreds) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return k.md, nil
}

// RequireTransportSecurity is false only for a plain http:// endpoint.
func (k apiKeyCreds) RequireTransportSecurity() bool { return k.secure }

func (k apiKeyCreds) String() string { return "apiKeyCreds{[REDACTED]}" }

// handshakeWatch wraps the TLS credentials to remember the last handshake
// error: grpc-go reports it only as the text of an UNAVAILABLE status, and an
// untrusted certificate must be fatal.
type handshakeWatch struct {
	credentials.TransportCredentials
	err *atomic.Pointer[error] // shared by clones
}

func (h *handshakeWatch) ClientHandshake(ctx context.Context, authority string, c net.Conn) (net.Conn, credentials.AuthInfo, error) {
	conn, info, err := h.TransportCredentials.ClientHandshake(ctx, authority, c)
	if err != nil {
		h.err.Store(&err)
	} else {
		h.err.Store(nil)
	}
	return conn, info, err
}

func (h *handshakeWatch) Clone() credentials.TransportCredentials {
	return &handshakeWatch{TransportCredentials: h.TransportCredentials.Clone(), err: h.err}
}

func (h *handshakeWatch) last() error {
	if p := h.err.Load(); p != nil {
		return *p
	}
	return nil
}
