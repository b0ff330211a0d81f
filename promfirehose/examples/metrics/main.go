// Command metrics serves /metrics for a running consumer of an in-process
// mock firehose (firehosetest): four receivers, a live rate, a cut and a
// duplicate burst now and then, so every panel of
// examples/grafana/firehose-dashboard.json has something to show.
//
//	go run ./examples/metrics -addr 127.0.0.1:9464
//	curl -s 127.0.0.1:9464/metrics | grep firehose_
package main

import (
	"context"
	"errors"
	"flag"
	"log"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/firehose-go/firehose"
	"github.com/firehose-go/firehose/firehosetest"
	"github.com/firehose-go/firehose/promfirehose"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:9464", "serve /metrics on this `ADDRESS`")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *addr); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context, addr string) error {
	srv := firehosetest.NewServer(
		firehosetest.WithHistory(2000, 5*time.Minute),
		firehosetest.WithRate(200),
		firehosetest.WithUnknownTypes(true),
		firehosetest.WithChaos(1, 20),
	)
	defer srv.Close()

	col := promfirehose.New()
	client, err := firehose.New(append([]firehose.Option{
		firehose.WithEndpoint(srv.URL),
		firehose.WithAPIKey(firehosetest.DefaultAPIKey),
		firehose.WithReceivers(4),
		firehose.WithStart(time.Now().Add(-10 * time.Minute)),
	}, col.Options()...)...)
	if err != nil {
		return err
	}
	if err := col.Observe(client); err != nil {
		return err
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(col)

	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	hs := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	serveErr := make(chan error, 1)
	go func() { serveErr <- hs.ListenAndServe() }()
	log.Printf("serving http://%s/metrics; Ctrl-C stops", addr)

	runErr := client.Run(ctx, col.WrapHandler(func(context.Context, *firehose.Event) error { return nil }))

	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	herr := hs.Shutdown(shutdown)
	if err := <-serveErr; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	if runErr != nil && ctx.Err() == nil {
		return runErr
	}
	return herr
}
