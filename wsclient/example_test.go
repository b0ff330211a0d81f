package wsclient_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/gorilla/websocket"

	"github.com/firehose-go/firehose/wsclient"
)

// A firehose that sends two events in one message, one too large, then
// closes: every unit is delivered or reported, and the end says why.
func Example() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := (&websocket.Upgrader{}).Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer ws.Close()
		ws.WriteMessage(websocket.TextMessage, []byte("{\"n\":1}\n{\"n\":2}\n"))
		ws.WriteMessage(websocket.TextMessage, []byte(strings.Repeat("x", 100)))
		ws.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(1001, "restarting"))
		ws.ReadMessage() // until the client's close frame
	}))
	defer srv.Close()

	c, _, err := wsclient.Dial(context.Background(), "ws"+strings.TrimPrefix(srv.URL, "http"),
		wsclient.Options{Split: wsclient.Lines, MaxUnit: 64})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()
	for {
		unit, err := c.Next()
		var ue *wsclient.UnitError
		switch {
		case errors.As(err, &ue):
			fmt.Println("dropped:", ue.Kind, ue.Size)
			continue
		case err != nil:
			fmt.Println("end:", err)
			return
		}
		fmt.Println("unit:", string(unit))
	}
	// Output:
	// unit: {"n":1}
	// unit: {"n":2}
	// dropped: oversized 100
	// end: wsclient: server closed the connection: close 1001 (going away): restarting
}
