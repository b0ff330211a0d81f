// Command unary calls one of the Firehose service's unary RPCs, GetDevice,
// through the generated client (firehosev1.NewFirehoseClient) on a gRPC
// connection that firehose.Client.GRPCConn sets up like the gRPC stream's own:
// TLS with the system roots (plaintext only for an http:// endpoint) and the
// API key as x-api-key metadata on every call.
//
// Without -endpoint it starts a local firehosetest mock and asks it, so it runs
// as is:
//
//	go run ./examples/unary
//	FIREHOSE_API_KEY=… go run ./examples/unary -endpoint https://partners.ciscospaces.io -tenant <partnerTenantId> -mac 00:11:22:33:44:55
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
	"github.com/firehose-go/firehose/firehosetest"
	"github.com/firehose-go/firehose/proto/firehosev1"
)

func main() {
	endpoint := flag.String("endpoint", "", "server URL (default: a local firehosetest mock)")
	tenant := flag.String("tenant", "", "partnerTenantId of the device")
	mac := flag.String("mac", "00:00:5e:00:53:af", "MAC address of the device")
	flag.Parse()
	if err := run(*endpoint, *tenant, *mac); err != nil {
		fmt.Fprintln(os.Stderr, "unary:", err)
		os.Exit(1)
	}
}

func run(endpoint, tenant, mac string) error {
	key := os.Getenv("FIREHOSE_API_KEY")
	if endpoint == "" {
		srv := firehosetest.NewServer()
		defer srv.Close()
		endpoint, key = srv.URL, firehosetest.DefaultAPIKey
	}
	c, err := firehose.New(firehose.WithEndpoint(endpoint), firehose.WithAPIKey(key))
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
