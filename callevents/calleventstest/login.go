package calleventstest

import (
	"encoding/json"
	"io"
	"net/http"
	"time"
)

// The login: POST LoginPath with {"username","password","domain"} and the optional filters
// "accounts" (account ids, each the caller's own or a descendant's) and "events" (event names).
//
//	200 {"access_token":"<JWT>"}                   the filters are remembered with the token
//	401 {"message":"invalid credentials"}          unknown user, wrong password or domain
//	403 {"message":"account <id> is not …"}        an account outside the caller's subtree
//	                                               (WithForeignAccountStatus)
//	400 {"message":"invalid request body"}         not a JSON object of that form
//	405                                            another method
//
// FailLogins and WithLoginFailures answer their status first; SetLoginDelay and WithLoginDelay
// delay every answer.

// loginBody is the request. Accounts and Events stay nil when absent.
type loginBody struct {
	Username string   `json:"username"`
	Password string   `json:"password"`
	Domain   string   `json:"domain"`
	Accounts []string `json:"accounts"`
	Events   []string `json:"events"`
}

func (s *Server) serveLogin(w http.ResponseWriter, r *http.Request) {
	s.loginsInFlight.Add(1)
	defer s.loginsInFlight.Add(-1)
	rec := Login{Time: time.Now()}
	answer := func(status int, msg string) {
		rec.Status, rec.Message = status, msg
		s.mu.Lock()
		s.logins = append(s.logins, rec)
		s.mu.Unlock()
		writeError(w, status, msg)
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		answer(http.StatusMethodNotAllowed, "method not allowed")
		return
	}
	var body loginBody
	raw, err := io.ReadAll(io.LimitReader(r.Body, 64<<10))
	bodyErr := err != nil || json.Unmarshal(raw, &body) != nil
	rec.Username, rec.Domain = body.Username, body.Domain
	rec.Accounts, rec.Events = cloneStrings(body.Accounts), cloneStrings(body.Events)

	s.mu.Lock()
	delay := s.loginDelay
	failStatus, fail := s.loginFail.take()
	s.mu.Unlock()
	if delay > 0 {
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			answer(http.StatusServiceUnavailable, "server closing")
			return
		}
	}
	if fail {
		answer(failStatus, http.StatusText(failStatus))
		return
	}
	if bodyErr {
		answer(http.StatusBadRequest, "invalid request body")
		return
	}
	acct, ok := s.tree.login(body.Username, body.Password, body.Domain)
	if !ok {
		answer(http.StatusUnauthorized, "invalid credentials")
		return
	}
	for _, id := range body.Accounts {
		if !s.tree.within(id, acct.ID) {
			answer(s.cfg.foreignStatus, "account "+id+" is not "+acct.Name+"'s or one of its children")
			return
		}
	}

	now := time.Now()
	exp := now.Add(s.cfg.ttl)
	if !s.cfg.subSecond {
		exp = exp.Truncate(time.Second)
		if exp.Before(now.Add(s.cfg.ttl)) {
			exp = exp.Add(time.Second) // round up: never shorter than the TTL
		}
	} else {
		exp = exp.Truncate(time.Millisecond)
	}
	tok := mintToken(s.cfg.key, acct, exp, s.cfg.subSecond)
	g := &grant{acct: acct, exp: exp, minted: now}
	if len(body.Accounts) > 0 {
		g.accounts = cloneStrings(body.Accounts)
	}
	if len(body.Events) > 0 {
		g.events = cloneStrings(body.Events)
	}
	rec.Status, rec.Account, rec.Expiry = http.StatusOK, acct.ID, exp
	s.mu.Lock()
	s.grants[tok] = g
	s.logins = append(s.logins, rec)
	s.mu.Unlock()

	w.Header().Set("Content-Type", "application/json")
	w.Write(append(append([]byte(`{"access_token":`), jsonString(tok)...), "}\n"...))
}
