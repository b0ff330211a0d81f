package firehosetest

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/mem"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/firehose-go/firehose/proto/firehosev1"
)

// grpcConn dials the server's gRPC channel (through DialContext, so it works in memory too).
func grpcConn(t *testing.T, s *Server, opts ...grpc.DialOption) *grpc.ClientConn {
	t.Helper()
	host := strings.TrimPrefix(strings.TrimPrefix(s.URL, "https://"), "http://")
	all := append([]grpc.DialOption{
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithContextDialer(func(ctx context.Context, addr string) (net.Conn, error) { return s.DialContext(ctx, "tcp", addr) }),
	}, opts...)
	cc, err := grpc.NewClient("passthrough:///"+host, all...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cc.Close() })
	return cc
}

func withKey(ctx context.Context, key string) context.Context {
	return metadata.AppendToOutgoingContext(ctx, "x-api-key", key)
}

// bytesCodec receives each message's bytes as they are (to see injected bad records).
type bytesCodec struct{}

type rawMsg struct{ b []byte }

func (bytesCodec) Name() string { return "proto" }
func (bytesCodec) Marshal(v any) (mem.BufferSlice, error) {
	b, err := proto.Marshal(v.(proto.Message))
	return mem.BufferSlice{mem.SliceBuffer(b)}, err
}
func (bytesCodec) Unmarshal(data mem.BufferSlice, v any) error {
	v.(*rawMsg).b = data.Materialize()
	return nil
}

// openEvents starts GetEvents and returns a receive function of raw messages.
func openEvents(t *testing.T, cc *grpc.ClientConn, ctx context.Context, in *firehosev1.EventsStreamRequest) grpc.ServerStreamingClient[firehosev1.EventRecord] {
	t.Helper()
	st, err := firehosev1.NewFirehoseClient(cc).GetEvents(withKey(ctx, DefaultAPIKey), in, grpc.ForceCodecV2(bytesCodec{}))
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func recvRaw(st grpc.ServerStreamingClient[firehosev1.EventRecord]) ([]byte, error) {
	var m rawMsg
	err := st.RecvMsg(&m)
	return m.b, err
}

func decode(t *testing.T, b []byte) *firehosev1.EventRecord {
	t.Helper()
	var rec firehosev1.EventRecord
	if err := proto.Unmarshal(b, &rec); err != nil {
		t.Fatalf("record does not decode: %v", err)
	}
	return &rec
}

// TestGRPCReplayMatchesLog: the stream is the log's events of the range, each the JSON line as a
// record.
func TestGRPCReplayMatchesLog(t *testing.T) {
	s := NewServer(WithHistory(200, time.Minute), WithUnknownTypes(true))
	defer s.Close()
	want := s.Log().Events(3, 8)
	cc := grpcConn(t, s)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st := openEvents(t, cc, ctx, &firehosev1.EventsStreamRequest{MinPartition: 3, MaxPartition: 8, FromTimestamp: want[0].Timestamp - 60000})
	for _, e := range want {
		b, err := recvRaw(st)
		if err != nil {
			t.Fatal(err)
		}
		rec := decode(t, b)
		var fromLine firehosev1.EventRecord
		if err := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(e.Line, &fromLine); err != nil {
			t.Fatal(err)
		}
		if _, known := firehosev1.EventType_value[e.Type]; !known {
			if rec.EventType != UnknownEventTypeNumber || rec.Event != nil {
				t.Fatalf("unknown type %s sent as %v", e.Type, rec)
			}
			fromLine.EventType = UnknownEventTypeNumber
		}
		if !proto.Equal(rec, &fromLine) || rec.RecordUid != e.UID || rec.RecordTimestamp != e.Timestamp {
			t.Fatalf("record %v\nline %s", rec, e.Line)
		}
	}
	reqs := s.Requests()
	if len(reqs) != 1 || reqs[0].Transport != ChannelGRPC || reqs[0].Proto != "HTTP/2.0" || reqs[0].Path != EventsPath ||
		!reqs[0].KeyOK || reqs[0].MinPartition != 3 || reqs[0].MaxPartition != 8 || !reqs[0].HasFromTimestamp {
		t.Fatalf("requests %+v", reqs)
	}
}

func TestGRPCRefusals(t *testing.T) {
	cases := []struct {
		name  string
		opts  []Option
		in    *firehosev1.EventsStreamRequest
		key   string
		code  codes.Code
		retry string
	}{
		{name: "wrong key", key: "nope", code: codes.Unauthenticated},
		{name: "no key", code: codes.Unauthenticated},
		{name: "channel off", opts: []Option{WithChannels(ChannelHTTP)}, key: DefaultAPIKey, code: codes.PermissionDenied},
		{name: "replica on cloud", in: &firehosev1.EventsStreamRequest{ReplicaId: 2}, key: DefaultAPIKey, code: codes.InvalidArgument},
		{name: "bad partition", in: &firehosev1.EventsStreamRequest{MinPartition: 13}, key: DefaultAPIKey, code: codes.InvalidArgument},
		{name: "429", opts: []Option{WithScript(Conn{Status: 429, RetryAfter: "9", Message: "slow down"})}, key: DefaultAPIKey, code: codes.ResourceExhausted, retry: "9"},
		{name: "500", opts: []Option{WithScript(Conn{Status: 500})}, key: DefaultAPIKey, code: codes.Internal},
		{name: "503", opts: []Option{WithScript(Conn{Status: 503})}, key: DefaultAPIKey, code: codes.Unavailable},
		{name: "404", opts: []Option{WithScript(Conn{Status: 404})}, key: DefaultAPIKey, code: codes.Unimplemented},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := NewServer(tc.opts...)
			defer s.Close()
			cc := grpcConn(t, s)
			in := tc.in
			if in == nil {
				in = &firehosev1.EventsStreamRequest{}
			}
			ctx := context.Background()
			if tc.key != "" {
				ctx = withKey(ctx, tc.key)
			}
			st, err := firehosev1.NewFirehoseClient(cc).GetEvents(ctx, in)
			if err == nil {
				_, err = st.Recv()
			}
			if status.Code(err) != tc.code {
				t.Fatalf("err = %v, want %v", err, tc.code)
			}
			if tc.retry != "" {
				if got := st.Trailer().Get("retry-after"); len(got) != 1 || got[0] != tc.retry {
					t.Fatalf("retry-after %v", got)
				}
				if status.Convert(err).Message() != "slow down" {
					t.Fatalf("message %q", status.Convert(err).Message())
				}
			}
			if r := s.Requests(); len(r) != 1 || r[0].Status == 200 {
				t.Fatalf("requests %+v", r)
			}
		})
	}
	t.Run("unknown method", func(t *testing.T) {
		s := NewServer()
		defer s.Close()
		_, err := firehosev1.NewFirehoseClient(grpcConn(t, s)).GetFloorMap(withKey(context.Background(), DefaultAPIKey), &firehosev1.FloorMapRequest{})
		if status.Code(err) != codes.Unimplemented {
			t.Fatal(err)
		}
	})
}

// TestGRPCFaults: each scripted action as the gRPC channel renders it.
func TestGRPCFaults(t *testing.T) {
	cases := []struct {
		name  string
		conn  Conn
		check func(t *testing.T, got [][]byte, err error)
	}{
		{"cut", Conn{After: 5, Action: Cut}, func(t *testing.T, got [][]byte, err error) {
			if len(got) != 5 || status.Code(err) != codes.Unavailable {
				t.Fatalf("%d records, %v", len(got), err)
			}
		}},
		{"cut mid-line", Conn{After: 5, Action: CutMidLine}, func(t *testing.T, got [][]byte, err error) {
			if len(got) != 5 || status.Code(err) != codes.Internal || !strings.Contains(err.Error(), "RST_STREAM") {
				t.Fatalf("%d records, %v", len(got), err)
			}
		}},
		{"end", Conn{After: 5, Action: EndStream}, func(t *testing.T, got [][]byte, err error) {
			if len(got) != 5 || !errors.Is(err, io.EOF) {
				t.Fatalf("%d records, %v", len(got), err)
			}
		}},
		{"stall", Conn{After: 5, Action: Stall}, func(t *testing.T, got [][]byte, err error) {
			if len(got) != 5 || status.Code(err) != codes.DeadlineExceeded {
				t.Fatalf("%d records, %v", len(got), err)
			}
		}},
		{"duplicates", Conn{After: 5, Duplicates: 3, Action: EndStream}, func(t *testing.T, got [][]byte, err error) {
			if len(got) != 8 || !errors.Is(err, io.EOF) || string(got[5]) != string(got[2]) || string(got[7]) != string(got[4]) {
				t.Fatalf("%d records, %v", len(got), err)
			}
		}},
		{"inject", Conn{After: 4, Action: EndStream, Inject: []Inject{{At: 1, Kind: Malformed}, {At: 2, Kind: Oversized, Size: 40 << 10},
			{At: 3, Kind: UnknownType}, {At: 3, Kind: BinaryMessage}}},
			func(t *testing.T, got [][]byte, err error) {
				if len(got) != 7 || !errors.Is(err, io.EOF) {
					t.Fatalf("%d records, %v", len(got), err)
				}
				if proto.Unmarshal(got[1], &firehosev1.EventRecord{}) == nil {
					t.Fatal("the malformed record decodes")
				}
				var big firehosev1.EventRecord
				if err := proto.Unmarshal(got[3], &big); err != nil || len(got[3]) < 38<<10 || big.EventType != firehosev1.EventType_DEVICE_LOCATION_UPDATE {
					t.Fatalf("oversized: %d bytes, %v", len(got[3]), err)
				}
				var unk firehosev1.EventRecord
				if err := proto.Unmarshal(got[5], &unk); err != nil || unk.EventType != UnknownEventTypeNumber {
					t.Fatalf("unknown type: %v %v", &unk, err)
				}
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := NewServer(WithHistory(50, time.Minute), WithKeepAlive(0), WithScript(tc.conn))
			defer s.Close()
			cc := grpcConn(t, s)
			ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
			defer cancel()
			st := openEvents(t, cc, ctx, &firehosev1.EventsStreamRequest{FromTimestamp: 1})
			var got [][]byte
			var err error
			for {
				var b []byte
				if b, err = recvRaw(st); err != nil {
					break
				}
				got = append(got, b)
			}
			tc.check(t, got, err)
		})
	}
}

func TestGRPCKeepAlive(t *testing.T) {
	s := NewServer(WithKeepAlive(20 * time.Millisecond))
	defer s.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st := openEvents(t, grpcConn(t, s), ctx, &firehosev1.EventsStreamRequest{})
	b, err := recvRaw(st)
	if err != nil {
		t.Fatal(err)
	}
	rec := decode(t, b)
	if rec.EventType != firehosev1.EventType_KEEP_ALIVE || !strings.HasPrefix(rec.RecordUid, "event-") || rec.RecordTimestamp == 0 || rec.Event != nil {
		t.Fatalf("keep-alive %v", rec)
	}
}

// TestGRPCOverTLS: with WithHTTP2 the channel is served over TLS, "h2" by ALPN.
func TestGRPCOverTLS(t *testing.T) {
	s := NewServer(WithHTTP2(), WithHistory(3, time.Second))
	defer s.Close()
	pool := x509.NewCertPool()
	pool.AddCert(s.Certificate())
	cc := grpcConn(t, s, grpc.WithTransportCredentials(credentials.NewTLS(&tls.Config{RootCAs: pool, ServerName: "127.0.0.1"})))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st := openEvents(t, cc, ctx, &firehosev1.EventsStreamRequest{FromTimestamp: 1})
	for range 3 {
		b, err := recvRaw(st)
		if err != nil {
			t.Fatal(err)
		}
		decode(t, b)
	}
}

func TestGRPCGetDevice(t *testing.T) {
	s := NewServer(WithHistory(20, time.Second))
	defer s.Close()
	var mac string
	for _, e := range s.Log().Events(1, 12) {
		var rec firehosev1.EventRecord
		if (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(e.Line, &rec) == nil && rec.GetDeviceLocationUpdate() != nil {
			mac = rec.GetDeviceLocationUpdate().GetDevice().GetMacAddress()
			break
		}
	}
	client := firehosev1.NewFirehoseClient(grpcConn(t, s))
	dev, err := client.GetDevice(withKey(context.Background(), DefaultAPIKey), &firehosev1.GetDeviceRequest{Id: &firehosev1.GetDeviceRequest_MacAddress{MacAddress: mac}})
	if err != nil || dev.GetMacAddress() != mac || dev.GetFirstName() == "" || len(dev.GetAttributes()) != 1 ||
		len(dev.GetSocialNetworkInfo()) != 1 || dev.GetSocialNetworkInfo()[0].GetSocialInfo() == nil ||
		dev.GetSocialNetworkInfo()[0].GetSocialHandle() == "" || dev.GetDhcpProfileInfo().GetDcProfileName() == "" {
		t.Fatalf("device of the world %s: %v %v", mac, dev, err)
	}
	dev, err = client.GetDevice(withKey(context.Background(), DefaultAPIKey), &firehosev1.GetDeviceRequest{Id: &firehosev1.GetDeviceRequest_DeviceId{DeviceId: "device-x"}})
	if err != nil || dev.GetDeviceId() != "device-x" {
		t.Fatalf("canned device: %v %v", dev, err)
	}
	if _, err := client.GetDevice(context.Background(), &firehosev1.GetDeviceRequest{}); status.Code(err) != codes.Unauthenticated {
		t.Fatalf("no key: %v", err)
	}
}

func TestGRPCInMemory(t *testing.T) {
	s := NewServer(WithInMemory(), WithHistory(5, time.Second))
	defer s.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st := openEvents(t, grpcConn(t, s), ctx, &firehosev1.EventsStreamRequest{FromTimestamp: 1})
	for range 5 {
		if _, err := recvRaw(st); err != nil {
			t.Fatal(err)
		}
	}
}

func TestGRPCRecordCacheBounded(t *testing.T) {
	var g grpcState
	line := []byte(`{"recordUid":"event-1","recordTimestamp":5,"spacesTenantId":"","spacesTenantName":"","partnerTenantId":"","eventType":"DEVICE_EXIT","deviceExit":{"visitId":"v"}}`)
	a, _ := g.record(frame{kind: frameEvent, line: line})
	b, _ := g.record(frame{kind: frameEvent, line: line})
	if &a[0] != &b[0] {
		t.Fatal("not cached")
	}
	for i := range grpcCacheMax + 10 {
		l := append([]byte(nil), line...)
		l = append(l[:len(l)-3], byte('a'+i%26), byte('a'+i/26%26), byte('a'+i/676%26))
		l = append(l, `"}}`...)
		g.record(frame{kind: frameEvent, line: l})
	}
	if len(g.recs) > grpcCacheMax {
		t.Fatalf("cache holds %d records", len(g.recs))
	}
}

func TestGRPCPercentEncode(t *testing.T) {
	if got := grpcPercentEncode("50% off ✓\n"); got != "50%25 off %E2%9C%93%0A" {
		t.Fatal(got)
	}
}
