package octavetest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/firehose-go/firehose/internal/leakcheck"
)

// TestMain fails the run if a goroutine these tests started outlives them.
func TestMain(m *testing.M) {
	leakcheck.Main(m, "octavetest.", "net/http.", "gorilla/websocket.")
}

// newServer starts a server closed at the end of the test.
func newServer(t *testing.T, opts ...Option) *Server {
	t.Helper()
	s := NewServer(opts...)
	t.Cleanup(s.Close)
	return s
}

// envelope is an answer's JSON.
type envelope struct {
	Head struct {
		MsgID    json.RawMessage `json:"msgId"`
		OK       bool            `json:"ok"`
		Status   int             `json:"status"`
		Errors   []string        `json:"errors"`
		Messages []string        `json:"messages"`
	} `json:"head"`
	Body json.RawMessage `json:"body"`
}

// post creates a session with the given headers (a missing key is not sent).
func post(t *testing.T, s *Server, hdr map[string]string) (int, envelope) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, s.URL+SessionPath, nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var env envelope
	if err := json.Unmarshal(b, &env); err != nil {
		t.Fatalf("answer %q: %v", b, err)
	}
	return resp.StatusCode, env
}

func goodHeaders() map[string]string {
	return map[string]string{"X-Auth-Company": DefaultCompany, "X-Auth-User": DefaultUser, "X-Auth-Token": DefaultToken}
}

// session creates a session with the default credentials and returns its id.
func newSession(t *testing.T, s *Server) string {
	t.Helper()
	st, env := post(t, s, goodHeaders())
	if st != http.StatusCreated || !env.Head.OK || env.Head.Status != 201 {
		t.Fatalf("POST /session: %d %+v", st, env.Head)
	}
	var body struct{ ID string }
	json.Unmarshal(env.Body, &body)
	if body.ID == "" {
		t.Fatalf("no id in %s", env.Body)
	}
	return body.ID
}

// client is an open socket.
type client struct {
	t  *testing.T
	ws *websocket.Conn
	n  int
}

func wsURL(s *Server, id string) string {
	return "ws" + strings.TrimPrefix(s.URL, "http") + SessionPath + "/" + id + "/ws"
}

// dial opens a socket on a fresh session.
func dial(t *testing.T, s *Server) *client {
	t.Helper()
	id := newSession(t, s)
	ws, resp, err := websocket.DefaultDialer.Dial(wsURL(s, id), nil)
	if err != nil {
		t.Fatalf("dial: %v (%v)", err, resp)
	}
	c := &client{t: t, ws: ws}
	t.Cleanup(func() { ws.Close() })
	return c
}

func (c *client) send(v string) {
	c.t.Helper()
	if err := c.ws.WriteMessage(websocket.TextMessage, []byte(v)); err != nil {
		c.t.Fatal(err)
	}
}

// subscribe sends a subscribe by streamId (or path if ref starts with "/") and returns its msgId.
func (c *client) subscribe(typ, ref string) string {
	c.t.Helper()
	c.n++
	id := fmt.Sprintf("m%d", c.n)
	key := "streamId"
	if strings.HasPrefix(ref, "/") {
		key = "path"
	}
	c.send(fmt.Sprintf(`{"msgId":%q,"object":"event","type":%q,%q:%q}`, id, typ, key, ref))
	return id
}

// frame is a server message as the tests read it.
type frame struct {
	Head *struct {
		MsgID  string   `json:"msgId"`
		OK     bool     `json:"ok"`
		Status int      `json:"status"`
		Errors []string `json:"errors"`
	} `json:"head"`
	Type     string          `json:"type"`
	Resource string          `json:"resource"`
	Value    json.RawMessage `json:"value"`
	raw      []byte
}

// read reads one message within 5 s.
func (c *client) read() (frame, error) {
	c.ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, b, err := c.ws.ReadMessage()
	if err != nil {
		return frame{}, err
	}
	var f frame
	if err := json.Unmarshal(b, &f); err != nil {
		c.t.Fatalf("server sent %q: %v", b, err)
	}
	f.raw = b
	return f, nil
}

func (c *client) mustRead() frame {
	c.t.Helper()
	f, err := c.read()
	if err != nil {
		c.t.Fatal(err)
	}
	return f
}

// mustAck reads a reply and checks it answers msgID with ok.
func (c *client) mustAck(msgID string) {
	c.t.Helper()
	f := c.mustRead()
	if f.Head == nil || f.Head.MsgID != msgID || !f.Head.OK {
		c.t.Fatalf("want ack of %s, got %s", msgID, f.raw)
	}
}

// eventID returns value.id of a push.
func (f frame) eventID(t *testing.T) string {
	t.Helper()
	var v struct{ ID string }
	if f.Type != "message" || json.Unmarshal(f.Value, &v) != nil || v.ID == "" {
		t.Fatalf("not a push: %s", f.raw)
	}
	return v.ID
}

// publish publishes n events with elems {"i": k}.
func publish(t *testing.T, s *Server, stream string, n int) []Event {
	t.Helper()
	elems := make([]any, n)
	for i := range elems {
		elems[i] = map[string]int{"i": i}
	}
	evs, err := s.Publish(stream, elems...)
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

// eventually polls cond for up to 5 s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}
