package firehosev1

// This file is written by hand; it is NOT generated.
//
// Why: protoc-gen-go-grpc derives a method's path from the protobuf package of
// the .proto file. Ours is firehosego.cisco.v1 (to avoid a registration clash
// with code generated from Cisco's proto), so generated stubs would call
// /firehosego.cisco.v1.Firehose/GetEvents, which Cisco's servers do not serve.
// The wire's service is firehose_api_v1.Firehose, so the client and server
// glue below names the wire's paths explicitly. It is the same few lines a
// generator would write, built on grpc-go's generic stream helpers.

import (
	"context"
	"errors"
	"io"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// ServiceName is the full name of the Firehose service on the wire.
const ServiceName = "firehose_api_v1.Firehose"

// Full method paths of the Firehose service on the wire, as seen by
// interceptors (grpc.StreamServerInfo.FullMethod and friends).
const (
	FullMethodGetEvents       = "/firehose_api_v1.Firehose/GetEvents"
	FullMethodGetLocationInfo = "/firehose_api_v1.Firehose/GetLocationInfo"
	FullMethodGetFloorMap     = "/firehose_api_v1.Firehose/GetFloorMap"
	FullMethodSaveDevice      = "/firehose_api_v1.Firehose/SaveDevice"
	FullMethodGetDevice       = "/firehose_api_v1.Firehose/GetDevice"
)

// FirehoseClient is the client API of the Firehose service.
type FirehoseClient interface {
	// GetEvents opens the event stream. Each Recv returns one EventRecord;
	// Recv returns io.EOF when the server ends the stream cleanly and the
	// server's status (a *status.Status error) otherwise.
	//
	// gRPC's default 4 MiB receive limit may be below the largest event:
	// raise it with grpc.MaxCallRecvMsgSize.
	GetEvents(ctx context.Context, in *EventsStreamRequest, opts ...grpc.CallOption) (grpc.ServerStreamingClient[EventRecord], error)
	// GetLocationInfo returns a location and its details.
	GetLocationInfo(ctx context.Context, in *LocationInfoRequest, opts ...grpc.CallOption) (*LocationInfo, error)
	// GetFloorMap returns a floor map's details and image.
	GetFloorMap(ctx context.Context, in *FloorMapRequest, opts ...grpc.CallOption) (*FloorMap, error)
	// SaveDevice stores a device profile.
	SaveDevice(ctx context.Context, in *SaveDeviceRequest, opts ...grpc.CallOption) (*Device, error)
	// GetDevice returns a device profile.
	GetDevice(ctx context.Context, in *GetDeviceRequest, opts ...grpc.CallOption) (*Device, error)
}

type firehoseClient struct {
	cc grpc.ClientConnInterface
}

// NewFirehoseClient returns a FirehoseClient that calls the wire's method
// paths (/firehose_api_v1.Firehose/...) on cc. It does no I/O.
func NewFirehoseClient(cc grpc.ClientConnInterface) FirehoseClient {
	return &firehoseClient{cc: cc}
}

// withStaticMethod prepends grpc.StaticMethod (the method name is a constant,
// so metrics may use it as a label) without touching the caller's slice.
func withStaticMethod(opts []grpc.CallOption) []grpc.CallOption {
	return append([]grpc.CallOption{grpc.StaticMethod()}, opts...)
}

func (c *firehoseClient) GetEvents(ctx context.Context, in *EventsStreamRequest, opts ...grpc.CallOption) (grpc.ServerStreamingClient[EventRecord], error) {
	desc := &grpc.StreamDesc{StreamName: "GetEvents", ServerStreams: true}
	cs, err := c.cc.NewStream(ctx, desc, FullMethodGetEvents, withStaticMethod(opts)...)
	if err != nil {
		return nil, err
	}
	// SendMsg reports io.EOF when the server has already ended the stream (a
	// rejected key, say); the real status then comes from the first Recv, so
	// hand the stream back instead of a bare io.EOF.
	if err := cs.SendMsg(in); err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	if err := cs.CloseSend(); err != nil {
		return nil, err
	}
	return &grpc.GenericClientStream[EventsStreamRequest, EventRecord]{ClientStream: cs}, nil
}

func (c *firehoseClient) GetLocationInfo(ctx context.Context, in *LocationInfoRequest, opts ...grpc.CallOption) (*LocationInfo, error) {
	out := new(LocationInfo)
	if err := c.cc.Invoke(ctx, FullMethodGetLocationInfo, in, out, withStaticMethod(opts)...); err != nil {
		return nil, err
	}
	return out, nil
}

func (c *firehoseClient) GetFloorMap(ctx context.Context, in *FloorMapRequest, opts ...grpc.CallOption) (*FloorMap, error) {
	out := new(FloorMap)
	if err := c.cc.Invoke(ctx, FullMethodGetFloorMap, in, out, withStaticMethod(opts)...); err != nil {
		return nil, err
	}
	return out, nil
}

func (c *firehoseClient) SaveDevice(ctx context.Context, in *SaveDeviceRequest, opts ...grpc.CallOption) (*Device, error) {
	out := new(Device)
	if err := c.cc.Invoke(ctx, FullMethodSaveDevice, in, out, withStaticMethod(opts)...); err != nil {
		return nil, err
	}
	return out, nil
}

func (c *firehoseClient) GetDevice(ctx context.Context, in *GetDeviceRequest, opts ...grpc.CallOption) (*Device, error) {
	out := new(Device)
	if err := c.cc.Invoke(ctx, FullMethodGetDevice, in, out, withStaticMethod(opts)...); err != nil {
		return nil, err
	}
	return out, nil
}

// FirehoseServer is the server API of the Firehose service (for test servers
// and mocks). Embed UnimplementedFirehoseServer to implement only some
// methods and to stay compatible if methods are added.
type FirehoseServer interface {
	// GetEvents sends records on stream until the stream's context ends or
	// it returns; its error becomes the call's status.
	GetEvents(in *EventsStreamRequest, stream grpc.ServerStreamingServer[EventRecord]) error
	GetLocationInfo(ctx context.Context, in *LocationInfoRequest) (*LocationInfo, error)
	GetFloorMap(ctx context.Context, in *FloorMapRequest) (*FloorMap, error)
	SaveDevice(ctx context.Context, in *SaveDeviceRequest) (*Device, error)
	GetDevice(ctx context.Context, in *GetDeviceRequest) (*Device, error)
}

// UnimplementedFirehoseServer answers every method with codes.Unimplemented.
// Its zero value is ready to use, by value or embedded.
type UnimplementedFirehoseServer struct{}

var _ FirehoseServer = UnimplementedFirehoseServer{}

func (UnimplementedFirehoseServer) GetEvents(*EventsStreamRequest, grpc.ServerStreamingServer[EventRecord]) error {
	return status.Error(codes.Unimplemented, "method GetEvents not implemented")
}

func (UnimplementedFirehoseServer) GetLocationInfo(context.Context, *LocationInfoRequest) (*LocationInfo, error) {
	return nil, status.Error(codes.Unimplemented, "method GetLocationInfo not implemented")
}

func (UnimplementedFirehoseServer) GetFloorMap(context.Context, *FloorMapRequest) (*FloorMap, error) {
	return nil, status.Error(codes.Unimplemented, "method GetFloorMap not implemented")
}

func (UnimplementedFirehoseServer) SaveDevice(context.Context, *SaveDeviceRequest) (*Device, error) {
	return nil, status.Error(codes.Unimplemented, "method SaveDevice not implemented")
}

func (UnimplementedFirehoseServer) GetDevice(context.Context, *GetDeviceRequest) (*Device, error) {
	return nil, status.Error(codes.Unimplemented, "method GetDevice not implemented")
}

// RegisterFirehoseServer registers srv on s under the wire's service name,
// firehose_api_v1.Firehose, so clients of Cisco's proto can call it. Call it
// before s serves, once per server: grpc-go treats a second registration of
// the same service name, or registration after Serve, as fatal.
func RegisterFirehoseServer(s grpc.ServiceRegistrar, srv FirehoseServer) {
	s.RegisterService(firehoseServiceDesc(), srv)
}

// firehoseServiceDesc describes the service under its wire name. It is built
// on each call (no package state); grpc keeps the pointer it is given.
func firehoseServiceDesc() *grpc.ServiceDesc {
	return &grpc.ServiceDesc{
		ServiceName: ServiceName,
		HandlerType: (*FirehoseServer)(nil),
		Methods: []grpc.MethodDesc{
			{MethodName: "GetLocationInfo", Handler: unaryHandler(FullMethodGetLocationInfo, FirehoseServer.GetLocationInfo)},
			{MethodName: "GetFloorMap", Handler: unaryHandler(FullMethodGetFloorMap, FirehoseServer.GetFloorMap)},
			{MethodName: "SaveDevice", Handler: unaryHandler(FullMethodSaveDevice, FirehoseServer.SaveDevice)},
			{MethodName: "GetDevice", Handler: unaryHandler(FullMethodGetDevice, FirehoseServer.GetDevice)},
		},
		Streams: []grpc.StreamDesc{
			{StreamName: "GetEvents", Handler: getEventsHandler, ServerStreams: true},
		},
		// The file that declares the messages. (gRPC server reflection will
		// not map it to this service: the file's service is
		// firehosego.cisco.v1.Firehose.)
		Metadata: "firehosego/cisco/v1/firehose.proto",
	}
}

func getEventsHandler(srv any, stream grpc.ServerStream) error {
	in := new(EventsStreamRequest)
	if err := stream.RecvMsg(in); err != nil {
		return err
	}
	return srv.(FirehoseServer).GetEvents(in, &grpc.GenericServerStream[EventsStreamRequest, EventRecord]{ServerStream: stream})
}

// unaryHandler adapts one unary method of FirehoseServer (as a method
// expression) to grpc's handler signature, running the server's interceptor
// if there is one.
func unaryHandler[Req, Res any](fullMethod string, call func(FirehoseServer, context.Context, *Req) (*Res, error)) grpc.MethodHandler {
	return func(srv any, ctx context.Context, dec func(any) error, interceptor grpc.UnaryServerInterceptor) (any, error) {
		in := new(Req)
		if err := dec(in); err != nil {
			return nil, err
		}
		s := srv.(FirehoseServer)
		if interceptor == nil {
			return call(s, ctx, in)
		}
		info := &grpc.UnaryServerInfo{Server: srv, FullMethod: fullMethod}
		return interceptor(ctx, in, info, func(ctx context.Context, req any) (any, error) {
			return call(s, ctx, req.(*Req))
		})
	}
}
