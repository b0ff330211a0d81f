package firehosev1_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/firehose-go/firehose/proto/firehosev1"
)

// fakeFirehose serves three records on GetEvents and one device on GetDevice;
// the other methods come from UnimplementedFirehoseServer.
type fakeFirehose struct {
	firehosev1.UnimplementedFirehoseServer

	mu      sync.Mutex
	gotReq  *firehosev1.EventsStreamRequest
	gotKey  []string
	records []*firehosev1.EventRecord
	failGet error // if set, GetEvents returns it at once
}

func (f *fakeFirehose) GetEvents(in *firehosev1.EventsStreamRequest, stream grpc.ServerStreamingServer[firehosev1.EventRecord]) error {
	md, _ := metadata.FromIncomingContext(stream.Context())
	f.mu.Lock()
	f.gotReq = proto.Clone(in).(*firehosev1.EventsStreamRequest)
	f.gotKey = md.Get("x-api-key")
	fail := f.failGet
	f.mu.Unlock()
	if fail != nil {
		return fail
	}
	for _, r := range f.records {
		if err := stream.Send(r); err != nil {
			return err
		}
	}
	return nil
}

func (f *fakeFirehose) GetDevice(_ context.Context, in *firehosev1.GetDeviceRequest) (*firehosev1.Device, error) {
	return &firehosev1.Device{
		DeviceId:   "device-1",
		MacAddress: in.GetMacAddress(),
		Type:       firehosev1.DeviceType_LAPTOP,
	}, nil
}

// methodLog records the full method paths the server's interceptors saw.
type methodLog struct {
	mu      sync.Mutex
	methods []string
}

func (l *methodLog) add(m string) {
	l.mu.Lock()
	l.methods = append(l.methods, m)
	l.mu.Unlock()
}

func (l *methodLog) get() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.methods)
}

// startLoopback runs srv on 127.0.0.1 and returns a client connected to it.
// Cleanup closes the client and stops the server, waiting for Serve to return.
func startLoopback(t *testing.T, srv firehosev1.FirehoseServer) (firehosev1.FirehoseClient, *grpc.Server, *methodLog) {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	log := &methodLog{}
	s := grpc.NewServer(
		grpc.StreamInterceptor(func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
			log.add(info.FullMethod)
			return handler(srv, ss)
		}),
		grpc.UnaryInterceptor(func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
			log.add(info.FullMethod)
			return handler(ctx, req)
		}),
	)
	firehosev1.RegisterFirehoseServer(s, srv)
	served := make(chan error, 1)
	go func() { served <- s.Serve(lis) }()

	cc, err := grpc.NewClient("passthrough:///"+lis.Addr().String(),
		grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		s.Stop()
		<-served
		t.Fatalf("NewClient: %v", err)
	}
	t.Cleanup(func() {
		if err := cc.Close(); err != nil {
			t.Errorf("client close: %v", err)
		}
		s.Stop()
		if err := <-served; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return firehosev1.NewFirehoseClient(cc), s, log
}

func testRecords() []*firehosev1.EventRecord {
	var out []*firehosev1.EventRecord
	for i := range 3 {
		out = append(out, &firehosev1.EventRecord{
			RecordUid:       fmt.Sprintf("event-%x", 0xabc0+i),
			RecordTimestamp: 1641977166586 + int64(i),
			SpacesTenantId:  "spaces-tenant-1",
			EventType:       firehosev1.EventType_DEVICE_LOCATION_UPDATE,
			Event: &firehosev1.EventRecord_DeviceLocationUpdate{DeviceLocationUpdate: &firehosev1.DeviceLocation{
				Device:    &firehosev1.Device{MacAddress: "00:39:a7:8f:4a:00"},
				XPos:      372.79483,
				YPos:      210.72083,
				Latitude:  -999,
				Longitude: -999,
				Ipv6:      []string{},
			}},
		})
	}
	return out
}

func TestLoopbackRoundTrip(t *testing.T) {
	fake := &fakeFirehose{records: testRecords()}
	client, s, log := startLoopback(t, fake)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ctx = metadata.AppendToOutgoingContext(ctx, "x-api-key", "test-key")

	req := &firehosev1.EventsStreamRequest{MinPartition: 4, MaxPartition: 6, FromTimestamp: 1641977000000}
	stream, err := client.GetEvents(ctx, req)
	if err != nil {
		t.Fatalf("GetEvents: %v", err)
	}
	var got []*firehosev1.EventRecord
	for {
		rec, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("Recv: %v", err)
		}
		got = append(got, rec)
	}
	if len(got) != len(fake.records) {
		t.Fatalf("got %d records, want %d", len(got), len(fake.records))
	}
	for i := range got {
		if !proto.Equal(got[i], fake.records[i]) {
			t.Errorf("record %d:\n got  %v\n want %v", i, got[i], fake.records[i])
		}
	}
	fake.mu.Lock()
	if !proto.Equal(fake.gotReq, req) {
		t.Errorf("server got request %v, want %v", fake.gotReq, req)
	}
	if !slices.Equal(fake.gotKey, []string{"test-key"}) {
		t.Errorf("server got x-api-key %q", fake.gotKey)
	}
	fake.mu.Unlock()

	dev, err := client.GetDevice(ctx, &firehosev1.GetDeviceRequest{
		PartnerTenantId: "p",
		Id:              &firehosev1.GetDeviceRequest_MacAddress{MacAddress: "aa:bb:cc:dd:ee:ff"},
	})
	if err != nil {
		t.Fatalf("GetDevice: %v", err)
	}
	if dev.GetMacAddress() != "aa:bb:cc:dd:ee:ff" || dev.GetType() != firehosev1.DeviceType_LAPTOP {
		t.Errorf("GetDevice returned %v", dev)
	}

	// Methods the fake does not implement answer Unimplemented.
	_, err = client.GetFloorMap(ctx, &firehosev1.FloorMapRequest{MapId: "m"})
	if status.Code(err) != codes.Unimplemented {
		t.Errorf("GetFloorMap: got %v, want code Unimplemented", err)
	}

	want := []string{
		"/firehose_api_v1.Firehose/GetEvents",
		"/firehose_api_v1.Firehose/GetDevice",
		"/firehose_api_v1.Firehose/GetFloorMap",
	}
	if got := log.get(); !slices.Equal(got, want) {
		t.Errorf("server saw methods %q, want %q", got, want)
	}

	info, ok := s.GetServiceInfo()["firehose_api_v1.Firehose"]
	if !ok {
		t.Fatalf("service firehose_api_v1.Firehose not registered; have %v", s.GetServiceInfo())
	}
	var names []string
	for _, m := range info.Methods {
		names = append(names, m.Name)
	}
	slices.Sort(names)
	if wantNames := []string{"GetDevice", "GetEvents", "GetFloorMap", "GetLocationInfo", "SaveDevice"}; !slices.Equal(names, wantNames) {
		t.Errorf("registered methods %q, want %q", names, wantNames)
	}
}

// A stream the server rejects at once must surface the server's status, not
// a bare io.EOF.
func TestGetEventsRejectedReportsStatus(t *testing.T) {
	fake := &fakeFirehose{failGet: status.Error(codes.Unauthenticated, "bad key")}
	client, _, _ := startLoopback(t, fake)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	stream, err := client.GetEvents(ctx, &firehosev1.EventsStreamRequest{})
	if err == nil {
		_, err = stream.Recv()
	}
	if status.Code(err) != codes.Unauthenticated {
		t.Fatalf("got %v, want code Unauthenticated", err)
	}
}

func TestUnimplementedServer(t *testing.T) {
	client, _, _ := startLoopback(t, firehosev1.UnimplementedFirehoseServer{})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	stream, err := client.GetEvents(ctx, &firehosev1.EventsStreamRequest{})
	if err == nil {
		_, err = stream.Recv()
	}
	if status.Code(err) != codes.Unimplemented {
		t.Errorf("GetEvents: got %v, want Unimplemented", err)
	}
	calls := map[string]func() error{
		"GetLocationInfo": func() error { _, err := client.GetLocationInfo(ctx, &firehosev1.LocationInfoRequest{}); return err },
		"GetFloorMap":     func() error { _, err := client.GetFloorMap(ctx, &firehosev1.FloorMapRequest{}); return err },
		"SaveDevice":      func() error { _, err := client.SaveDevice(ctx, &firehosev1.SaveDeviceRequest{}); return err },
		"GetDevice":       func() error { _, err := client.GetDevice(ctx, &firehosev1.GetDeviceRequest{}); return err },
	}
	for name, call := range calls {
		if err := call(); status.Code(err) != codes.Unimplemented {
			t.Errorf("%s: got %v, want Unimplemented", name, err)
		}
	}
}

func TestMethodConstants(t *testing.T) {
	for name, got := range map[string]string{
		"GetEvents":       firehosev1.FullMethodGetEvents,
		"GetLocationInfo": firehosev1.FullMethodGetLocationInfo,
		"GetFloorMap":     firehosev1.FullMethodGetFloorMap,
		"SaveDevice":      firehosev1.FullMethodSaveDevice,
		"GetDevice":       firehosev1.FullMethodGetDevice,
	} {
		if want := "/" + firehosev1.ServiceName + "/" + name; got != want {
			t.Errorf("%s: %q, want %q", name, got, want)
		}
	}
	if firehosev1.ServiceName != "firehose_api_v1.Firehose" {
		t.Errorf("ServiceName = %q", firehosev1.ServiceName)
	}
}
