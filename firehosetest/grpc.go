package firehosetest

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/firehose-go/firehose/proto/firehosev1"
)

// The gRPC channel. The same http.Server serves it, on the same port, over HTTP/2: cleartext with
// prior knowledge (h2c) on a plain server, "h2" by ALPN under TLS (which needs WithHTTP2). A request
// is gRPC when it is HTTP/2 with a Content-Type of application/grpc (any +subtype). The framing is
// written here directly — a 5-byte length prefix per message, the status in grpc-status trailers —
// so faults are exact and no grpc.Server runs.
//
//	/firehose_api_v1.Firehose/GetEvents  the event stream
//	/firehose_api_v1.Firehose/GetDevice  a canned Device (for examples)
//	any other method                     UNIMPLEMENTED
//
// GetEvents takes the same parameters as the other channels, from EventsStreamRequest: a field at
// its proto3 default (0) counts as absent, so min_partition/max_partition 0 mean 1 and 12,
// from_timestamp 0 means live, and replica_id 0 is not a replicaId. The key is the x-api-key
// metadata. A refused attempt gets a Trailers-Only response with the status mapped to its gRPC code:
// 401 UNAUTHENTICATED, 403 PERMISSION_DENIED, 400 INVALID_ARGUMENT, 404 UNIMPLEMENTED, 429
// RESOURCE_EXHAUSTED (Retry-After as the retry-after metadata), 500 INTERNAL, 503 UNAVAILABLE
// (others: UNKNOWN). Each event is its JSON line decoded with protojson and sent as a serialized
// EventRecord (converted once per event and cached); an event type the EventType enum lacks
// (SPACE_OCCUPANCY) is sent as enum number UnknownEventTypeNumber, without its payload. Keep-alives
// are KEEP_ALIVE records. Faults:
//
//	Cut         the stream ends with status UNAVAILABLE between two records
//	CutMidLine  a torn record (its length prefix, then half of it), then the stream is reset (RST_STREAM)
//	EndStream   the stream ends with status OK
//	Stall       nothing more is sent, the stream stays open
//	Malformed   a record that does not parse (truncated inside its first field)
//	Oversized   the padded event as a record of about Inject.Size bytes
//	UnknownType a SPACE_OCCUPANCY event (enum number UnknownEventTypeNumber)
//	BinaryMessage  skipped, as on HTTP

// UnknownEventTypeNumber is the EventType number the gRPC channel sends for an event type the
// proto's enum does not name (SPACE_OCCUPANCY); a client sees an unknown enum value.
const UnknownEventTypeNumber = 99

const grpcContentType = "application/grpc"

// grpcState caches each event's serialized record, keyed by a hash of its JSON line. The zero
// value is ready; the cache is bounded.
type grpcState struct {
	mu   sync.Mutex
	seed maphash.Seed
	recs map[uint64][]byte
}

const grpcCacheMax = 1 << 17 // about 130 MB of records at most

// serveGRPC serves the request if it is a gRPC call, reporting whether it was.
func (s *Server) serveGRPC(w http.ResponseWriter, r *http.Request) bool {
	if r.ProtoMajor != 2 || !strings.HasPrefix(r.Header.Get("Content-Type"), grpcContentType) {
		return false
	}
	switch r.URL.Path {
	case firehosev1.FullMethodGetEvents:
		s.grpcEvents(w, r)
	case firehosev1.FullMethodGetDevice:
		s.grpcGetDevice(w, r)
	default:
		grpcStatusOnly(w, codes.Unimplemented, "firehosetest: unknown method "+r.URL.Path, "")
	}
	return true
}

func (s *Server) grpcEvents(w http.ResponseWriter, r *http.Request) {
	var in firehosev1.EventsStreamRequest
	if err := readGRPCMessage(r.Body, &in); err != nil {
		grpcStatusOnly(w, codes.InvalidArgument, "firehosetest: bad request message: "+err.Error(), "")
		return
	}
	q := url.Values{}
	if in.MinPartition != 0 {
		q.Set("minPartition", strconv.Itoa(int(in.MinPartition)))
	}
	if in.MaxPartition != 0 {
		q.Set("maxPartition", strconv.Itoa(int(in.MaxPartition)))
	}
	if in.FromTimestamp != 0 {
		q.Set("fromTimestamp", strconv.FormatInt(in.FromTimestamp, 10))
	}
	if in.ReplicaId != 0 {
		q.Set("replicaId", strconv.Itoa(int(in.ReplicaId)))
	}
	sess, rej := s.open(request{
		transport: ChannelGRPC,
		proto:     r.Proto,
		path:      EventsPath,
		key:       r.Header.Get("X-Api-Key"),
		query:     q,
	})
	if rej != nil {
		grpcStatusOnly(w, grpcCode(rej.status), rej.message, rej.retryAfter)
		return
	}
	defer sess.close()

	w.Header().Set("Content-Type", grpcContentType)
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	if rc.Flush() != nil {
		return
	}
	bw := bufio.NewWriterSize(w, 32<<10)
	flush := func() error {
		if err := bw.Flush(); err != nil {
			return err
		}
		return rc.Flush()
	}
	ctx := r.Context()
	torn := false
	var prefix [5]byte
	for {
		f, err := sess.next(ctx)
		switch {
		case errors.Is(err, errCut):
			flush()
			if torn {
				panic(http.ErrAbortHandler) // HTTP/2: RST_STREAM
			}
			grpcTrailers(w, codes.Unavailable, "firehosetest: connection cut")
			return
		case errors.Is(err, io.EOF):
			flush()
			grpcTrailers(w, codes.OK, "")
			return
		case errors.Is(err, errServerClosed):
			flush()
			grpcTrailers(w, codes.Unavailable, "firehosetest: server closing")
			return
		case err != nil:
			return
		}
		if f.kind != frameBinary {
			msg, converted := f.line, false
			if f.partial {
				// A torn record: announce twice what follows; the reset comes next.
				binary.BigEndian.PutUint32(prefix[1:], uint32(2*len(f.line)+2))
				torn = true
			} else {
				msg, converted = s.grpc.record(f)
				binary.BigEndian.PutUint32(prefix[1:], uint32(len(msg)))
			}
			bw.Write(prefix[:])
			if _, err := bw.Write(msg); err != nil {
				return // the client has gone
			}
			if converted && flush() != nil {
				// Converting costs far more than writing (protojson): after a conversion the record
				// goes out at once, so a long first replay never looks like silence to the client.
				return
			}
		}
		if !sess.pending() && flush() != nil {
			return
		}
	}
}

// record returns the serialized EventRecord of a frame, and whether it had to be converted now. Log
// events are converted once and cached; the returned bytes are shared and never modified.
func (g *grpcState) record(f frame) ([]byte, bool) {
	switch f.kind {
	case frameKeepAlive:
		return lineToRecord(f.line), true
	case frameInjected:
		if f.inject == Malformed {
			// Field 1 announces 64 bytes of recordUid; fewer follow.
			return append([]byte{0x0a, 64}, "event-malformed"...), false
		}
		return lineToRecord(f.line), true
	}
	g.mu.Lock()
	if g.recs == nil {
		g.seed = maphash.MakeSeed()
		g.recs = make(map[uint64][]byte)
	}
	key := maphash.Bytes(g.seed, f.line)
	rec, ok := g.recs[key]
	g.mu.Unlock()
	if ok {
		return rec, false
	}
	rec = lineToRecord(f.line)
	g.mu.Lock()
	if len(g.recs) >= grpcCacheMax {
		clear(g.recs)
	}
	g.recs[key] = rec
	g.mu.Unlock()
	return rec, true
}

// lineToRecord converts one JSON event to a serialized EventRecord.
func lineToRecord(line []byte) []byte {
	var rec firehosev1.EventRecord
	if err := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(line, &rec); err != nil {
		// Not expected for the log's own lines; send what a client must count as malformed.
		return append([]byte{0x0a, 64}, "event-unconvertible"...)
	}
	// protojson made an eventType the enum lacks 0 (DEVICE_ENTRY): send an unknown number instead.
	if name := jsonEventType(line); name != "" {
		if _, known := firehosev1.EventType_value[name]; !known {
			rec.EventType = UnknownEventTypeNumber
		}
	}
	b, err := proto.Marshal(&rec)
	if err != nil {
		return append([]byte{0x0a, 64}, "event-unconvertible"...)
	}
	return b
}

// jsonEventType finds the eventType of one of the log's lines (its envelope comes first).
func jsonEventType(line []byte) string {
	const key = `"eventType":"`
	i := bytes.Index(line, []byte(key))
	if i < 0 {
		return ""
	}
	rest := line[i+len(key):]
	j := bytes.IndexByte(rest, '"')
	if j < 0 {
		return ""
	}
	return string(rest[:j])
}

// grpcGetDevice answers GetDevice with a device of the log's world when the mac address or device
// id is one of them, else a canned device carrying the id asked for.
func (s *Server) grpcGetDevice(w http.ResponseWriter, r *http.Request) {
	var in firehosev1.GetDeviceRequest
	if err := readGRPCMessage(r.Body, &in); err != nil {
		grpcStatusOnly(w, codes.InvalidArgument, "firehosetest: bad request message: "+err.Error(), "")
		return
	}
	switch {
	case s.cfg.apiKey != "" && r.Header.Get("X-Api-Key") != s.cfg.apiKey:
		grpcStatusOnly(w, codes.Unauthenticated, "API key missing, invalid or blocked", "")
		return
	case !s.cfg.channels[ChannelGRPC]:
		grpcStatusOnly(w, codes.PermissionDenied, "endpoint type grpc is not enabled for this activation", "")
		return
	}
	dev := s.log.device(in.GetMacAddress(), in.GetDeviceId())
	b, err := proto.Marshal(dev)
	if err != nil {
		grpcStatusOnly(w, codes.Internal, err.Error(), "")
		return
	}
	w.Header().Set("Content-Type", grpcContentType)
	w.WriteHeader(http.StatusOK)
	var prefix [5]byte
	binary.BigEndian.PutUint32(prefix[1:], uint32(len(b)))
	w.Write(prefix[:])
	w.Write(b)
	grpcTrailers(w, codes.OK, "")
}

// device finds a device of the world by mac address or id — its profile as a PROFILE_UPDATE
// carries it, every field filled — or makes a canned one.
func (l *Log) device(mac, id string) *firehosev1.Device {
	for _, te := range l.tenants {
		for _, d := range te.devices {
			if (mac != "" && d.mac == mac) || (id != "" && d.id == id) {
				dev := new(firehosev1.Device)
				if err := protojson.Unmarshal(appendDevice(nil, d, true, ""), dev); err == nil {
					return dev
				}
			}
		}
	}
	if id == "" {
		id = "device-firehosetest"
	}
	if mac == "" {
		mac = "00:00:5e:00:53:01"
	}
	return &firehosev1.Device{
		DeviceId: id, MacAddress: mac, Manufacturer: "Cisco", Os: "iOS", OsVersion: "17.4",
		Type: firehosev1.DeviceType_MOBILE, Gender: firehosev1.Gender_GENDER_NOT_AVAILABLE,
		OptIns: []firehosev1.Device_OptIn{firehosev1.Device_TERMS_AND_CONDITIONS},
	}
}

// readGRPCMessage reads one uncompressed length-prefixed message (at most 1 MiB).
func readGRPCMessage(r io.Reader, m proto.Message) error {
	var prefix [5]byte
	if _, err := io.ReadFull(r, prefix[:]); err != nil {
		return err
	}
	if prefix[0] != 0 {
		return errors.New("compressed messages are not supported")
	}
	n := binary.BigEndian.Uint32(prefix[1:])
	if n > 1<<20 {
		return fmt.Errorf("message of %d bytes", n)
	}
	buf := make([]byte, n)
	if _, err := io.ReadFull(r, buf); err != nil {
		return err
	}
	return proto.Unmarshal(buf, m)
}

// grpcStatusOnly answers with a Trailers-Only response: the status in the only HEADERS frame.
func grpcStatusOnly(w http.ResponseWriter, code codes.Code, msg, retryAfter string) {
	h := w.Header()
	h.Set("Content-Type", grpcContentType)
	h.Set("Grpc-Status", strconv.Itoa(int(code)))
	if msg != "" {
		h.Set("Grpc-Message", grpcPercentEncode(msg))
	}
	if retryAfter != "" {
		h.Set("Retry-After", retryAfter)
	}
	w.WriteHeader(http.StatusOK)
}

// grpcTrailers ends a response that has begun with its status.
func grpcTrailers(w http.ResponseWriter, code codes.Code, msg string) {
	h := w.Header()
	h.Set(http.TrailerPrefix+"Grpc-Status", strconv.Itoa(int(code)))
	if msg != "" {
		h.Set(http.TrailerPrefix+"Grpc-Message", grpcPercentEncode(msg))
	}
}

// grpcCode maps a refusal's HTTP status to the gRPC code the real channel would use.
func grpcCode(status int) codes.Code {
	switch status {
	case http.StatusBadRequest:
		return codes.InvalidArgument
	case http.StatusUnauthorized:
		return codes.Unauthenticated
	case http.StatusForbidden:
		return codes.PermissionDenied
	case http.StatusNotFound:
		return codes.Unimplemented
	case http.StatusTooManyRequests:
		return codes.ResourceExhausted
	case http.StatusInternalServerError:
		return codes.Internal
	case http.StatusServiceUnavailable:
		return codes.Unavailable
	case http.StatusGatewayTimeout:
		return codes.DeadlineExceeded
	}
	return codes.Unknown
}

// grpcPercentEncode encodes a grpc-message value: bytes outside printable ASCII, and '%'.
func grpcPercentEncode(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c > 0x7e || c == '%' {
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&0xf])
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}
