package calleventstest

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/firehose-go/firehose/internal/leakcheck"
)

// TestMain fails the run if a goroutine these tests started outlives them.
func TestMain(m *testing.M) {
	leakcheck.Main(m, "calleventstest.", "net/http.", "gorilla/websocket.")
}

// newServer starts a server closed at the end of the test.
func newServer(t *testing.T, opts ...Option) *Server {
	t.Helper()
	s := NewServer(opts...)
	t.Cleanup(s.Close)
	return s
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

type loginAnswer struct {
	status  int
	token   string
	message string
}

// login posts body (marshalled unless it is a string) and returns the answer.
func login(t *testing.T, s *Server, body any) loginAnswer {
	t.Helper()
	b, ok := body.(string)
	if !ok {
		j, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		b = string(j)
	}
	resp, err := s.Client().Post(s.URL+LoginPath, "application/json", strings.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		AccessToken string `json:"access_token"`
		Message     string `json:"message"`
	}
	raw, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("status %d, body %q: %v", resp.StatusCode, raw, err)
	}
	return loginAnswer{resp.StatusCode, out.AccessToken, out.Message}
}

// creds is a login body.
type creds struct {
	Username string   `json:"username"`
	Password string   `json:"password"`
	Domain   string   `json:"domain"`
	Accounts []string `json:"accounts,omitempty"`
	Events   []string `json:"events,omitempty"`
}

var (
	admin    = creds{Username: "admin", Password: "adminpassword", Domain: "master.test"}
	reseller = creds{Username: "reseller", Password: "resellerpassword", Domain: "reseller.test"}
)

func (c creds) with(accounts, events []string) creds {
	c.Accounts, c.Events = accounts, events
	return c
}

// mustToken logs in and returns the token.
func mustToken(t *testing.T, s *Server, c creds) string {
	t.Helper()
	a := login(t, s, c)
	if a.status != http.StatusOK || a.token == "" {
		t.Fatalf("login: %d %q", a.status, a.message)
	}
	return a.token
}

// dial opens the stream with the token in the header, or in the query when inQuery.
func dial(t *testing.T, s *Server, token string, inQuery bool) (*websocket.Conn, *http.Response, error) {
	t.Helper()
	u := s.EventsURL()
	h := http.Header{}
	if inQuery {
		u += "?token=" + url.QueryEscape(token)
	} else if token != "" {
		h.Set("Authorization", "Bearer "+token)
	}
	d := websocket.Dialer{HandshakeTimeout: 5 * time.Second}
	if s.CertPool() != nil {
		d.TLSClientConfig = s.Client().Transport.(*http.Transport).TLSClientConfig.Clone()
	}
	ws, resp, err := d.DialContext(testContext(t), u, h)
	if ws != nil {
		t.Cleanup(func() { ws.Close() })
	}
	if resp != nil && resp.Body != nil {
		resp.Body.Close()
	}
	return ws, resp, err
}

func mustDial(t *testing.T, s *Server, token string) *websocket.Conn {
	t.Helper()
	ws, resp, err := dial(t, s, token, false)
	if err != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		t.Fatalf("dial: %v (status %d)", err, status)
	}
	return ws
}

// read reads one message within d.
func read(ws *websocket.Conn, d time.Duration) ([]byte, error) {
	ws.SetReadDeadline(time.Now().Add(d))
	_, b, err := ws.ReadMessage()
	return b, err
}

// claims decodes a token's claims without verifying it.
func claims(t *testing.T, tok string) map[string]any {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("token %q has %d parts", tok, len(parts))
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	if err := d.Decode(&m); err != nil {
		t.Fatal(err)
	}
	return m
}
