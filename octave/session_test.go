package octave

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/firehose-go/firehose/octave/octavetest"
)

func defaultCreds() credentials {
	return credentials{company: octavetest.DefaultCompany, user: octavetest.DefaultUser, token: octavetest.DefaultToken}
}

func TestCreateSession(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		opts     []octavetest.Option
		creds    credentials
		status   int // 0: success
		authFail bool
	}{
		{"master token", nil, defaultCreds(), 0, false},
		{"restricted token omits the user", []octavetest.Option{octavetest.WithCredentials("co", "", "rt")}, credentials{company: "co", token: "rt"}, 0, false},
		{"bad token 400", nil, credentials{company: octavetest.DefaultCompany, user: octavetest.DefaultUser, token: "wrong-token"}, 400, true},
		{"bad token 401", []octavetest.Option{octavetest.WithAuthStatus(401)}, credentials{company: "x", token: "wrong-token"}, 401, true},
		{"bad token 403", []octavetest.Option{octavetest.WithAuthStatus(403)}, credentials{company: "x", token: "wrong-token"}, 403, true},
		{"server trouble", []octavetest.Option{octavetest.WithScript(octavetest.Conn{Status: 503})}, defaultCreds(), 503, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := octavetest.NewServer(tt.opts...)
			defer srv.Close()
			id, err := createSession(context.Background(), http.DefaultClient, srv.URL, tt.creds)
			if tt.status == 0 {
				if err != nil || id == "" {
					t.Fatalf("id %q, err %v", id, err)
				}
				ss := srv.Sessions()
				if len(ss) != 1 || ss[0].HasUser != (tt.creds.user != "") || ss[0].Company != tt.creds.company {
					t.Fatalf("server saw %+v", ss)
				}
				return
			}
			var he *httpError
			if !errors.As(err, &he) || he.status != tt.status || he.auth() != tt.authFail || he.message == "" {
				t.Fatalf("err = %#v", err)
			}
			if strings.Contains(err.Error(), "wrong-token") {
				t.Fatalf("token in %v", err)
			}
		})
	}
}

// A server that echoes the token in its message never gets it into the error.
func TestCreateSessionRedactsEcho(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(401)
		fmt.Fprintf(w, `{"head":{"ok":false,"status":401,"errors":["bad token %s"]},"body":{}}`, r.Header.Get("X-Auth-Token"))
	}))
	defer srv.Close()
	cr := credentials{company: "co", user: "u", token: "s3cr3t-t0ken"}
	_, err := createSession(context.Background(), srv.Client(), srv.URL, cr)
	if err == nil || strings.Contains(err.Error(), cr.token) || !strings.Contains(err.Error(), "401") {
		t.Fatalf("err = %v", err)
	}
	for _, s := range []string{fmt.Sprint(cr), fmt.Sprintf("%+v", cr), fmt.Sprintf("%#v", cr), fmt.Sprintf("%v", &cr)} {
		if strings.Contains(s, cr.token) {
			t.Fatalf("token printed: %s", s)
		}
	}
}

func TestCreateSessionOddAnswers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		status int
		body   string
		want   string
	}{
		{"html from a proxy", 502, "<html>bad gateway</html>", "502"},
		{"201 without id", 201, `{"head":{"ok":true,"status":201,"errors":[]},"body":{}}`, "no session id"},
		{"200 with an error head", 200, `{"head":{"ok":false,"status":403,"errors":["nope"]},"body":{}}`, "status 403"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(tt.status)
				fmt.Fprint(w, tt.body)
			}))
			defer srv.Close()
			_, err := createSession(context.Background(), srv.Client(), srv.URL, defaultCreds())
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestSocketURL(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"https://octave-ws.sierrawireless.io": "wss://octave-ws.sierrawireless.io/session/a.b/ws",
		"http://127.0.0.1:8080":               "ws://127.0.0.1:8080/session/a.b/ws",
	} {
		got, err := socketURL(in, "a.b")
		if err != nil || got != want {
			t.Errorf("socketURL(%q) = %q, %v", in, got, err)
		}
	}
	if _, err := socketURL("ftp://x", "a"); err == nil {
		t.Error("ftp accepted")
	}
}
