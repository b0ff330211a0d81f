package firehosetest_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/firehose-go/firehose/firehosetest"
)

func ExampleNewServer() {
	srv := firehosetest.NewServer(firehosetest.WithHistory(3, time.Minute))
	defer srv.Close()

	req, _ := http.NewRequest(http.MethodGet, srv.URL+firehosetest.EventsPath+"?fromTimestamp=1", nil)
	req.Header.Set("X-API-Key", firehosetest.DefaultAPIKey)
	resp, err := srv.Client().Do(req)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()
	fmt.Println(resp.Status, resp.Header.Get("Content-Type"))

	sc := bufio.NewScanner(resp.Body)
	for range srv.Log().Len() {
		sc.Scan()
		var ev struct {
			UID  string `json:"recordUid"`
			Type string `json:"eventType"`
		}
		json.Unmarshal(sc.Bytes(), &ev)
		fmt.Println(ev.Type, firehosetest.Partition(ev.UID) >= 1)
	}
	// Output:
	// 200 OK application/x-ndjson
	// DEVICE_ENTRY true
	// DEVICE_EXIT true
	// PROFILE_UPDATE true
}

func ExampleWithScript() {
	srv := firehosetest.NewServer(
		firehosetest.WithHistory(10, time.Minute),
		firehosetest.WithScript(
			firehosetest.Conn{Status: http.StatusTooManyRequests, RetryAfter: "2"},
			firehosetest.Conn{After: 4, Action: firehosetest.CutMidLine},
		),
	)
	defer srv.Close()

	get := func() (*http.Response, error) {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+firehosetest.EventsPath+"?fromTimestamp=1", nil)
		req.Header.Set("X-API-Key", firehosetest.DefaultAPIKey)
		return srv.Client().Do(req)
	}
	resp, _ := get()
	resp.Body.Close()
	fmt.Println("first attempt:", resp.StatusCode, "Retry-After", resp.Header.Get("Retry-After"))

	resp, _ = get()
	defer resp.Body.Close()
	r := bufio.NewReader(resp.Body)
	lines := 0
	for {
		line, err := r.ReadBytes('\n')
		if err != nil {
			next := srv.Log().Events(1, 12)[lines].Line
			torn := len(line) == len(next)/2 && bytes.HasPrefix(next, line)
			fmt.Printf("second attempt: %d events, then half of the next one (%v) and %v\n", lines, torn, err)
			break
		}
		lines++
	}
	for _, req := range srv.Requests() {
		fmt.Println(req.Status, req.Served)
	}
	// Output:
	// first attempt: 429 Retry-After 2
	// second attempt: 4 events, then half of the next one (true) and unexpected EOF
	// 429 0
	// 200 4
}
