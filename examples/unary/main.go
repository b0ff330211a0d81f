// Command unary calls one of the Firehose service's unary RPCs, GetDevice,
// through the generated client (firehosev1.NewFirehoseClient) on a gRPC
// connection that firehose.Client.GRPCConn sets up like the gRPC stream's own:
// TLS with the system roots (plaintext only for an http:// endpoint) and the
// API key as x-api-key metadata on every call.
//
// By default it starts a firehosetest mock in this process and asks it, so it
// runs as is; -endpoint URL asks another server with the mock's key (or -key);
// only -real sends $FIREHOSE_API_KEY, to Cisco:
//
//	go run ./examples/unary
//	FIREHOSE_API_KEY=… go run ./examples/unary -real -tenant <partnerTenantId> -mac 00:11:22:33:44:55
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/firehose-go/firehose"
	"github.com/firehose-go/firehose/examples/internal/target"
	"github.com/firehose-go/firehose/proto/firehosev1"
)

func main() {
	where := target.Flags(nil)
	tenant := flag.String("tenant", "", "partnerTenantId of the device")
	mac := flag.String("mac", "00:00:5e:00:53:af", "MAC address of the device")
	flag.Parse()
	if err := run(where, *tenant, *mac); err != nil {
		fmt.Fprintln(os.Stderr, "unary:", err)
		os.Exit(1)
	}
}

func run(where *target.Target, tenant, mac string) error {
	opts, srv, err := where.Options()
	if err != nil {
		return err
	}
	if srv != nil {
		defer srv.Close()
	}
	c, err := firehose.New(opts...)
	if err != nil {
		return err
	}
	cc, err := c.GRPCConn()
	if err != nil {
		return err
	}
	defer cc.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	dev, err := firehosev1.NewFirehoseClient(cc).GetDevice(ctx, &firehosev1.GetDeviceRequest{
		PartnerTenantId: tenant,
		Id:              &firehosev1.GetDeviceRequest_MacAddress{MacAddress: mac},
	})
	if err != nil {
		return fmt.Errorf("GetDevice: %s: %w", status.Code(err), err)
	}
	out, err := protojson.MarshalOptions{Multiline: true}.Marshal(dev)
	if err != nil {
		return err
	}
	fmt.Println(string(out))
	return nil
}
