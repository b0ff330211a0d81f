package callevents

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/firehose-go/firehose/callevents/calleventstest"
)

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

var adminCreds = credentials{Username: "admin", Password: "adminpassword", Domain: "master.test"}

func TestLogin(t *testing.T) {
	t.Parallel()
	srv := calleventstest.NewServer(calleventstest.WithTokenTTL(time.Hour))
	defer srv.Close()
	c := adminCreds
	c.Accounts = []string{calleventstest.CustomerAccount}
	c.Events = []string{ChannelAnswer, ChannelDestroy}
	before := time.Now()
	tok, err := login(testCtx(t), srv.Client(), srv.URL+LoginPath, c)
	if err != nil {
		t.Fatal(err)
	}
	if tok.claimsErr != nil || tok.claims.Identity != calleventstest.RootAccount+":Master" {
		t.Errorf("claims %+v, %v", tok.claims, tok.claimsErr)
	}
	if d := tok.claims.Expiry.Sub(before); d < time.Hour-time.Second || d > time.Hour+2*time.Second {
		t.Errorf("exp in %v, want about an hour", d)
	}
	l := srv.Logins()
	if len(l) != 1 || l[0].Username != "admin" || l[0].Domain != "master.test" ||
		!slices.Equal(l[0].Accounts, c.Accounts) || !slices.Equal(l[0].Events, c.Events) {
		t.Errorf("the server saw %+v", l)
	}
	// Without filters, none are sent (not empty lists).
	if _, err := login(testCtx(t), srv.Client(), srv.URL+LoginPath, adminCreds); err != nil {
		t.Fatal(err)
	}
	if l := srv.Logins()[1]; l.Accounts != nil || l.Events != nil {
		t.Errorf("filters sent without being asked: %+v", l)
	}
}

func TestLoginRefused(t *testing.T) {
	t.Parallel()
	srv := calleventstest.NewServer()
	defer srv.Close()
	bad := adminCreds
	bad.Password = "wrong-password"
	foreign := credentials{Username: "reseller", Password: "resellerpassword", Domain: "reseller.test",
		Accounts: []string{calleventstest.OtherAccount}}
	srv.FailLogins(1, 503)
	for _, c := range []struct {
		name string
		cr   credentials
		code int
		msg  string
	}{
		{"503 first", adminCreds, 503, "Service Unavailable"},
		{"bad password", bad, 401, "invalid credentials"},
		{"foreign account", foreign, 403, "is not Reseller's"},
	} {
		_, err := login(testCtx(t), srv.Client(), srv.URL+LoginPath, c.cr)
		var ls *loginStatus
		if !errors.As(err, &ls) || ls.code != c.code || !strings.Contains(ls.message, c.msg) {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if want := fmt.Sprintf("callevents: login: status %d %s: ", c.code, http.StatusText(c.code)); !strings.HasPrefix(err.Error(), want) {
			t.Errorf("%s: %q", c.name, err)
		}
		if strings.Contains(err.Error(), string(c.cr.Password)) {
			t.Errorf("%s: the password is in %q", c.name, err)
		}
	}
}

// TestLoginOddAnswers covers answers the mock does not give: an echoed password, Retry-After, a
// 200 without a token, a token that is not a JWT.
func TestLoginOddAnswers(t *testing.T) {
	t.Parallel()
	answers := map[string]func(w http.ResponseWriter){
		"/echo": func(w http.ResponseWriter) {
			w.WriteHeader(401)
			w.Write([]byte(`{"error":"user admin with password p@ss\/w0rd \"x\" unknown"}`))
		},
		"/text": func(w http.ResponseWriter) {
			w.Header().Set("Retry-After", "7")
			w.WriteHeader(503)
			w.Write([]byte("upstream\n  down p%40ss%2Fw0rd+%22x%22" + strings.Repeat("!", 2000)))
		},
		"/empty":  func(w http.ResponseWriter) { w.Write([]byte(`{"token":"x"}`)) },
		"/notjwt": func(w http.ResponseWriter) { w.Write([]byte(`{"access_token":"opaque"}`)) },
	}
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		answers[r.URL.Path](w)
	}))
	defer ts.Close()
	c := adminCreds
	c.Password = `p@ss/w0rd "x"`
	do := func(path string) (token, error) { return login(testCtx(t), ts.Client(), ts.URL+path, c) }

	_, err := do("/echo")
	var ls *loginStatus
	if !errors.As(err, &ls) || ls.code != 401 || strings.Contains(err.Error(), "p@ss") || !strings.Contains(err.Error(), "[REDACTED]") {
		t.Errorf("echo: %v", err)
	}
	_, err = do("/text")
	if !errors.As(err, &ls) || ls.retryAfter != 7*time.Second || strings.Contains(ls.message, "p%40ss") ||
		len(ls.message) > maxMessage || strings.ContainsAny(ls.message, "\n") || !strings.HasPrefix(ls.message, "upstream down") {
		t.Errorf("text: %v (%q)", err, ls.message)
	}
	if _, err := do("/empty"); err == nil || !strings.Contains(err.Error(), "no access_token") {
		t.Errorf("empty: %v", err)
	}
	tok, err := do("/notjwt")
	if err != nil || tok.claimsErr == nil || string(tok.value) != "opaque" {
		t.Errorf("notjwt: %v, %v", err, tok.claimsErr)
	}
	ts.Close()
	if _, err := do("/echo"); err == nil || strings.Contains(err.Error(), "p@ss") {
		t.Errorf("closed: %v", err)
	}
}
