package firehose

import (
	"fmt"

	"google.golang.org/grpc"
)

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
