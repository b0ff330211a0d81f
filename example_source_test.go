package firehose_test

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/firehose-go/firehose"
	"github.com/firehose-go/firehose/wsclient"
)

// ticker is a firehose of its own: a WebSocket of {"id","at"} messages that
// cannot replay. It uses only the public seam, as the octave and callevents
// packages do.
type ticker struct{ url string }

func (t ticker) Connect(ctx context.Context, req firehose.ConnectRequest) (firehose.Conn, error) {
	ws, _, err := wsclient.Dial(ctx, t.url, wsclient.Options{
		Split:     wsclient.Messages,
		PingEvery: 10 * time.Second,
		OnPong:    req.Alive, // pongs prove this socket alive: a quiet night is normal
	})
	if err != nil {
		return nil, err // retried with backoff; firehose.Fatal(err) would end the stream
	}
	return &tickConn{ws: ws}, nil
}

func (ticker) Close() error { return nil }

type tickConn struct{ ws *wsclient.Conn }

func (c *tickConn) Next(f *firehose.Frame) error {
	msg, err := c.ws.Next() // valid until the next call: the engine copies what it keeps
	if err != nil {
		return err // the connection is over: the engine reconnects
	}
	var e struct {
		ID string `json:"id"`
		At int64  `json:"at"`
	}
	if err := json.Unmarshal(msg, &e); err != nil || e.ID == "" {
		return &firehose.FrameError{Reason: firehose.DropMalformed, Size: len(msg), Err: err}
	}
	*f = firehose.Frame{Kind: firehose.FrameEvent, ID: []byte(e.ID), Timestamp: e.At, Type: []byte("tick"), Raw: msg}
	return nil
}

func (c *tickConn) Close() error { return c.ws.Close() }

// A firehose of your own gets the engine's Stream, Stats, backoff, duplicate
// window, idle watchdog, checkpoints and gap reports.
func ExampleWithSource() {
	c, err := firehose.New(firehose.WithSource(firehose.SourceSpec{
		Name:   "ticker",
		Resume: firehose.ResumeNone, // every reconnect is reported as a gap with its downtime
		New: func(firehose.SourceConfig) (firehose.Source, error) {
			return ticker{url: "wss://ticker.example/events"}, nil
		},
	}))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(c)
	// Output: firehose.Client{source: ticker, partitions: 1-12, margin: 10s, window: 55m0s, idle: 45s, maxEvent: 8388608, dedupe: 262144, backoff: 250ms..30s}
}
