package octavetest

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"strconv"
	"time"
)

// POST /session. The headers X-Auth-Company, X-Auth-Token and (for a master token) X-Auth-User
// must match the credentials; a restricted token (WithCredentials with an empty user) must come
// without X-Auth-User. A match creates a session: 201 and {"head":{"ok":true,"status":201,…},
// "body":{"id":"…"}}; anything else is refused with WithAuthStatus's status. A session id is good
// for one socket, dialed within WithSessionExpiry.

type sessionState uint8

const (
	sessFresh sessionState = iota // created, not dialed yet
	sessUsed                      // a socket was opened with it
)

type session struct {
	info    SessionInfo
	conn    Conn // its script entry
	state   sessionState
	created time.Time
}

func (s *Server) createSession(w http.ResponseWriter, r *http.Request) {
	company := r.Header.Get("X-Auth-Company")
	user, hasUser := r.Header.Get("X-Auth-User"), len(r.Header.Values("X-Auth-User")) > 0
	token := r.Header.Get("X-Auth-Token")

	s.mu.Lock()
	var cn Conn
	if s.posts < len(s.cfg.script) {
		cn = s.cfg.script[s.posts]
	}
	s.posts++
	info := SessionInfo{
		Company: company, User: user, HasUser: hasUser, Time: time.Now(),
		TokenOK: token != "" && subtle.ConstantTimeCompare([]byte(token), []byte(s.cfg.token)) == 1,
	}
	var reason string
	switch {
	case company == "" || token == "":
		reason = "Missing authentication headers"
	case company != s.cfg.company || !info.TokenOK:
		reason = "Invalid credentials"
	case s.cfg.user == "" && hasUser:
		reason = "Invalid credentials: a restricted token takes no user"
	case s.cfg.user != "" && user != s.cfg.user:
		reason = "Invalid credentials"
	}
	ss := &session{info: info, conn: cn, created: info.Time}
	s.sessList = append(s.sessList, ss)
	switch {
	case reason != "":
		ss.info.Status = s.cfg.authStatus
	case cn.Status != 0:
		ss.info.Status = cn.Status
		reason = "scripted refusal " + strconv.Itoa(cn.Status)
	default:
		ss.info.Status = http.StatusCreated
		ss.info.ID = newSessionID()
		s.sessions[ss.info.ID] = ss
	}
	st, id := ss.info.Status, ss.info.ID
	s.mu.Unlock()

	if reason != "" {
		writeEnvelope(w, st, nil, reason)
		return
	}
	writeEnvelope(w, st, []byte(`{"id":`+strconv.Quote(id)+`}`), "")
}

// newSessionID makes an id shaped like Octave's samples: 11 URL-safe characters, a dot, 32 more.
func newSessionID() string {
	var b [32]byte
	rand.Read(b[:])
	e := base64.RawURLEncoding.EncodeToString(b[:]) // 43 characters
	return e[:11] + "." + e[11:]
}

// claim takes the session for a socket, or says why it cannot: "unknown", "expired" or "used".
// s.mu is held.
func (s *Server) claimLocked(id string, now time.Time) (*session, string) {
	ss, ok := s.sessions[id]
	switch {
	case !ok:
		return nil, "unknown"
	case ss.state == sessUsed:
		return nil, "used"
	case ss.conn.Expire, s.cfg.sessionExpiry > 0 && now.Sub(ss.created) > s.cfg.sessionExpiry:
		delete(s.sessions, id) // gone for good, like an expired id on Octave
		return nil, "expired"
	}
	ss.state = sessUsed
	ss.info.Dialed = true
	return ss, ""
}
