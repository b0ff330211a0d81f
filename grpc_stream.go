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
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/mem"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/firehose-go/firehose/internal/envelope"
	"github.com/firehose-go/firehose/proto/firehosev1"
)

// The gRPC channel: the server stream Firehose.GetEvents, called by its wire
// path (/firehose_api_v1.Firehose/GetEvents), on a ClientConn of the
// receiver's own.
//
// Decoding. By default a record is not decoded when it arrives: a codec of
// this file (forced per call, never registered, so the process-wide "proto"
// codec is untouched) keeps the message bytes, and the envelope (fields 1 to
// 6) is read from them with protowire; the payload is decoded only when the
// caller asks for it (Event.Record, JSON, Payload, Decode). The standard
// codec (the record decoded in full by grpc-go's proto codec) is kept as
// grpcConnector.eager, a test and benchmark path.
//
// Ownership. A frame of this channel hands its memory to the Event made from
// it, with no copy: raw is a fresh slice per message (or the record is a
// fresh one), and every byte field of its envelope points into raw, into the
// record's strings or into descriptor strings, all immutable.

const (
	grpcStreamWindow = 4 << 20  // initial flow-control window per stream
	grpcConnWindow   = 16 << 20 // and per connection
	// grpcRecvSlack is how far above the max event size a message is still
	// read (and skipped as oversized, the stream going on); past that hard
	// cap grpc-go itself refuses it and ends the stream. It bounds memory.
	grpcRecvSlack = 16 << 20
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
	dead   error // the stream is over (after an oversized message grpc-go refused)
	names  *recordNames
}

func (c *grpcConn) Next(f *Frame) error {
	if c.dead != nil {
		return c.dead
	}
	if c.g.eager {
		return c.nextEager(f)
	}
	c.msg = rawRecord{}
	if err := c.cs.RecvMsg(&c.msg); err != nil {
		return c.fail(err)
	}
	if c.msg.over > 0 {
		return &FrameError{Reason: DropOversized, Size: c.msg.over}
	}
	f.Raw, f.cisco.format, f.cisco.record = c.msg.b, formatProto, nil
	c.msg.b = nil // handed over to the frame (and the Event)
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

// fillEagerEnvelope makes a frame of a decoded record, the envelope's bytes
// viewing its strings.
func fillEagerEnvelope(f *Frame, rec *firehosev1.EventRecord, names *recordNames) error {
	f.Raw, f.cisco.format, f.cisco.record = nil, formatProto, rec
	env := &f.cisco.env
	*env = envelope.Envelope{
		ID:               stringBytes(rec.RecordUid),
		Timestamp:        rec.RecordTimestamp,
		SpacesTenantID:   stringBytes(rec.SpacesTenantId),
		SpacesTenantName: stringBytes(rec.SpacesTenantName),
		PartnerTenantID:  stringBytes(rec.PartnerTenantId),
		Type:             stringBytes(names.typeName(int32(rec.EventType))),
	}
	if fd := rec.ProtoReflect().WhichOneof(names.payload); fd != nil {
		env.PayloadKey = stringBytes(fd.JSONName())
	}
	if len(env.ID) == 0 {
		return envelope.ErrMissingID
	}
	if env.Timestamp == 0 {
		return envelope.ErrMissingTimestamp
	}
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

// recordNames maps the numbers of a serialized EventRecord to names, from
// the descriptors: the EventType enum's value names (a stable EVENT_TYPE_<n>
// for a number the proto does not name) and the payload fields' JSON names.
// Small numbers are looked up in arrays filled once.
type recordNames struct {
	types   [64]string // by enum number; "" when unnamed
	keys    [64]string // payload JSON names by field number; "" when none
	values  protoreflect.EnumValueDescriptors
	fields  protoreflect.FieldDescriptors
	payload protoreflect.OneofDescriptor
	unknown map[int32]string
}

func newRecordNames() *recordNames {
	md := (*firehosev1.EventRecord)(nil).ProtoReflect().Descriptor()
	r := &recordNames{
		values:  firehosev1.EventType(0).Descriptor().Values(),
		fields:  md.Fields(),
		payload: md.Oneofs().ByName("event"),
	}
	for i := range r.values.Len() {
		if v := r.values.Get(i); v.Number() >= 0 && int(v.Number()) < len(r.types) {
			r.types[v.Number()] = string(v.Name())
		}
	}
	for i := range r.fields.Len() {
		if fd := r.fields.Get(i); fd.ContainingOneof() == r.payload && int(fd.Number()) < len(r.keys) {
			r.keys[fd.Number()] = fd.JSONName()
		}
	}
	return r
}

func (r *recordNames) typeName(n int32) string {
	if n >= 0 && int(n) < len(r.types) {
		if s := r.types[n]; s != "" {
			return s
		}
	} else if v := r.values.ByNumber(protoreflect.EnumNumber(n)); v != nil {
		return string(v.Name())
	}
	if s, ok := r.unknown[n]; ok {
		return s
	}
	s := unknownTypeName(n)
	if r.unknown == nil {
		r.unknown = make(map[int32]string)
	}
	if len(r.unknown) < 1024 {
		r.unknown[n] = s
	}
	return s
}

// payloadKey is the JSON name of payload field num ("" if it is none).
func (r *recordNames) payloadKey(num protowire.Number) string {
	if num >= 0 && int(num) < len(r.keys) {
		return r.keys[num]
	}
	if fd := r.fields.ByNumber(num); fd != nil && fd.ContainingOneof() == r.payload {
		return fd.JSONName()
	}
	return ""
}

func unknownTypeName(n int32) string { return "EVENT_TYPE_" + strconv.Itoa(int(n)) }

// stringBytes views an immutable string as bytes (never written).
func stringBytes(s string) []byte {
	if s == "" {
		return nil
	}
	return unsafe.Slice(unsafe.StringData(s), len(s))
}

// bytesString views bytes that are never written again as a string.
func bytesString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// Errors of the envelope scan of a serialized EventRecord.
var errBadRecord = errors.New("not a valid EventRecord")

// scanRecord reads the envelope of a serialized EventRecord (fields 1 to 6)
// with protowire and skips the payload without decoding it. Type is the
// enum's name; PayloadKey the payload field's JSON name; Payload stays nil.
// A field with an unexpected wire type is skipped, as proto.Unmarshal would.
func scanRecord(b []byte, env *envelope.Envelope, names *recordNames) error {
	*env = envelope.Envelope{}
	var hasTS bool
	var typ int32
	var payloadKey string
	for len(b) > 0 {
		num, wt, n := protowire.ConsumeTag(b)
		if n < 0 {
			return fmt.Errorf("%w: %w", errBadRecord, protowire.ParseError(n))
		}
		b = b[n:]
		switch {
		case num <= 5 && wt == protowire.BytesType:
			v, n := protowire.ConsumeBytes(b)
			if n < 0 {
				return fmt.Errorf("%w: %w", errBadRecord, protowire.ParseError(n))
			}
			b = b[n:]
			switch num {
			case 1:
				env.ID = v
			case 3:
				env.SpacesTenantID = v
			case 4:
				env.SpacesTenantName = v
			case 5:
				env.PartnerTenantID = v
			}
			continue
		case (num == 2 || num == 6) && wt == protowire.VarintType:
			v, n := protowire.ConsumeVarint(b)
			if n < 0 {
				return fmt.Errorf("%w: %w", errBadRecord, protowire.ParseError(n))
			}
			b = b[n:]
			if num == 2 {
				env.Timestamp, hasTS = int64(v), true
			} else {
				typ = int32(v)
			}
			continue
		case num >= 7 && wt == protowire.BytesType:
			if k := names.payloadKey(num); k != "" {
				payloadKey = k // the oneof's last member wins, as in proto.Unmarshal
			}
		}
		n = protowire.ConsumeFieldValue(num, wt, b)
		if n < 0 {
			return fmt.Errorf("%w: %w", errBadRecord, protowire.ParseError(n))
		}
		b = b[n:]
	}
	if len(env.ID) == 0 {
		return envelope.ErrMissingID
	}
	if !hasTS {
		return envelope.ErrMissingTimestamp
	}
	env.Type = stringBytes(names.typeName(typ))
	env.PayloadKey = stringBytes(payloadKey)
	return nil
}

// protoEvent is an Event and its extras in one allocation.
type protoEvent struct {
	ev  Event
	ext eventExt
}

// newProtoEvent makes the owned Event of a gRPC frame, taking over its
// memory (see Ownership above): no copy.
func newProtoEvent(f *Frame) *Event {
	pe := &protoEvent{}
	ev := &pe.ev
	env := &f.cisco.env
	ev.raw = f.Raw
	ev.format = formatProto
	ev.ts = env.Timestamp
	ev.id = bytesString(env.ID)
	ev.tenantID = bytesString(env.SpacesTenantID)
	ev.tenantName = bytesString(env.SpacesTenantName)
	ev.partnerID = bytesString(env.PartnerTenantID)
	ev.payloadKey = bytesString(env.PayloadKey)
	if t, ok := internType(env.Type); ok {
		ev.typ = t
	} else {
		ev.typ = EventType(bytesString(env.Type))
	}
	pe.ext.record = f.cisco.record
	pe.ext.render = renderProto
	ev.ext = &pe.ext
	return ev
}

// rawRecord receives one message under rawCodec.
type rawRecord struct {
	b    []byte // the serialized EventRecord, a fresh slice
	over int    // > 0: the message's size, above the max event size (b is nil)
}

// rawCodec keeps each received message's bytes instead of decoding them. It
// is passed per call (grpc.ForceCodecV2) and never registered: a codec
// registered as "proto" would replace grpc-go's for the whole process. Its
// name only sets the content-subtype, "application/grpc+proto".
type rawCodec struct{ max int }

func (*rawCodec) Name() string { return "proto" }

func (*rawCodec) Marshal(v any) (mem.BufferSlice, error) {
	m, ok := v.(proto.Message)
	if !ok {
		return nil, fmt.Errorf("firehose: grpc: cannot marshal %T", v)
	}
	b, err := proto.Marshal(m)
	if err != nil {
		return nil, err
	}
	return mem.BufferSlice{mem.SliceBuffer(b)}, nil
}

func (c *rawCodec) Unmarshal(data mem.BufferSlice, v any) error {
	switch m := v.(type) {
	case *rawRecord:
		// Never an error here: grpc-go would end the stream on it. An
		// oversized message is skipped, the stream goes on.
		if n := data.Len(); n > c.max {
			m.b, m.over = nil, n
			return nil
		}
		if len(data) == 1 {
			// append to nil allocates without zeroing what it copies over.
			m.b = append([]byte(nil), data[0].ReadOnlyData()...)
		} else {
			m.b = data.Materialize()
		}
		return nil
	case proto.Message:
		return proto.Unmarshal(data.Materialize(), m)
	}
	return fmt.Errorf("firehose: grpc: cannot unmarshal into %T", v)
}

// localTooLarge recognises grpc-go's own refusal of a message above the
// receive cap: a RESOURCE_EXHAUSTED made on this side, which is not the
// server throttling. It returns the message's size when it can read it.
func localTooLarge(err error) (int, bool) {
	st, ok := status.FromError(err)
	if !ok || st.Code() != codes.ResourceExhausted {
		return 0, false
	}
	msg := st.Message()
	if !strings.HasPrefix(msg, "grpc: ") || !strings.Contains(msg, "larger than max") {
		return 0, false
	}
	n := 0
	if i := strings.Index(msg, "("); i >= 0 {
		if j := strings.Index(msg[i:], " vs."); j > 0 {
			n, _ = strconv.Atoi(msg[i+1 : i+j])
		}
	}
	return n, true
}

// grpcError turns the status that ended a call into the engine's taxonomy.
func grpcError(err error, md metadata.MD, now time.Time) error {
	if errors.Is(err, io.EOF) {
		return io.EOF
	}
	st, ok := status.FromError(err)
	if !ok {
		return err
	}
	code := st.Code()
	if code == codes.Unavailable && grpcLocalTransport(st.Message()) {
		// grpc-go's own report of a dial, TLS or connection failure: a
		// network error, not a status the server sent.
		return fmt.Errorf("firehose: grpc: %w", err)
	}
	if n, ok := localTooLarge(err); ok {
		return fmt.Errorf("firehose: grpc: message of %d bytes above the receive limit: %w", n, err)
	}
	se := &StatusError{
		Transport: "grpc",
		Code:      grpcHTTPCode(code),
		GRPCCode:  grpcCodeName(code),
		Message:   trimMessage([]byte(st.Message())),
	}
	if code == codes.ResourceExhausted {
		if v := md.Get("retry-after"); len(v) > 0 {
			se.RetryAfter, se.retryAfterSet = parseRetryAfter(v[0], now)
		}
	}
	return se
}

// grpcLocalTransport reports the messages grpc-go gives the UNAVAILABLE
// statuses it makes itself when a connection cannot be made or breaks.
func grpcLocalTransport(msg string) bool {
	for _, p := range [...]string{"connection error:", "error reading from server", "transport is closing", "name resolver error", "last connection error", "last resolver error", "connection closed", "failed to exit idle mode"} {
		if strings.HasPrefix(msg, p) {
			return true
		}
	}
	return false
}

// grpcHTTPCode is the HTTP equivalent of a gRPC code, per design.md's table:
// the four fatal ones, 429 for RESOURCE_EXHAUSTED, and a retried 5xx for
// every other code.
func grpcHTTPCode(c codes.Code) int {
	switch c {
	case codes.Unauthenticated:
		return http.StatusUnauthorized
	case codes.PermissionDenied:
		return http.StatusForbidden
	case codes.InvalidArgument:
		return http.StatusBadRequest
	case codes.Unimplemented:
		return http.StatusNotFound
	case codes.ResourceExhausted:
		return http.StatusTooManyRequests
	case codes.Unavailable:
		return http.StatusServiceUnavailable
	case codes.DeadlineExceeded:
		return http.StatusGatewayTimeout
	}
	return http.StatusInternalServerError // INTERNAL, UNKNOWN and every other code: retried
}

// grpcCodeName is the code's canonical name ("UNAUTHENTICATED").
func grpcCodeName(c codes.Code) string {
	switch c {
	case codes.OK:
		return "OK"
	case codes.Canceled:
		return "CANCELLED"
	case codes.Unknown:
		return "UNKNOWN"
	case codes.InvalidArgument:
		return "INVALID_ARGUMENT"
	case codes.DeadlineExceeded:
		return "DEADLINE_EXCEEDED"
	case codes.NotFound:
		return "NOT_FOUND"
	case codes.AlreadyExists:
		return "ALREADY_EXISTS"
	case codes.PermissionDenied:
		return "PERMISSION_DENIED"
	case codes.ResourceExhausted:
		return "RESOURCE_EXHAUSTED"
	case codes.FailedPrecondition:
		return "FAILED_PRECONDITION"
	case codes.Aborted:
		return "ABORTED"
	case codes.OutOfRange:
		return "OUT_OF_RANGE"
	case codes.Unimplemented:
		return "UNIMPLEMENTED"
	case codes.Internal:
		return "INTERNAL"
	case codes.Unavailable:
		return "UNAVAILABLE"
	case codes.DataLoss:
		return "DATA_LOSS"
	case codes.Unauthenticated:
		return "UNAUTHENTICATED"
	}
	return "CODE_" + strconv.Itoa(int(c))
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

// GRPCConn returns a new gRPC client connection to the client's endpoint, set
// up as the gRPC transport sets up its own: host:port (443 by default), TLS
// with the configured TLS config or the system roots (plaintext only for an
// http:// endpoint), the API key as x-api-key metadata on every call, the
// dialer of WithDialer, the receive limit above WithMaxEventSize. Use it with
// firehosev1.NewFirehoseClient for the unary RPCs (GetDevice,
// GetLocationInfo, GetFloorMap, SaveDevice). It does no I/O; the caller
// closes it. Streams opened by Open or Run use connections of their own.
func (c *Client) GRPCConn() (*grpc.ClientConn, error) {
	target, dopts, _ := grpcDialOptions(c.cfg, true)
	dopts = append(dopts, grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(grpcRecvLimit(c.cfg.maxEvent))))
	cc, err := grpc.NewClient(target, dopts...)
	if err != nil {
		return nil, fmt.Errorf("firehose: grpc: %w", err)
	}
	return cc, nil
}
