package firehose

import (
	"errors"
	"strings"
)

// Secrets never leave the engine: a server may echo a key or a token back
// ("invalid key: <key>"), so every text that came from outside is cleaned of
// the configured secrets before it is stored, logged, hooked or returned.

const redacted = "[REDACTED]"

// minSecret is the shortest secret redacted: shorter strings would blank out
// ordinary words (a test key "k"); real keys and tokens are far longer.
const minSecret = 4

type redactor []string

func newRedactor(secrets ...string) redactor {
	var r redactor
	for _, s := range secrets {
		if len(s) >= minSecret {
			r = append(r, s)
		}
	}
	return r
}

// clean returns v with every secret replaced.
func (r redactor) clean(v string) string {
	for _, s := range r {
		if strings.Contains(v, s) {
			v = strings.ReplaceAll(v, s, redacted)
		}
	}
	return v
}

// cleanErr returns err, or an error with the same chain whose text is
// cleaned; a *StatusError's message is cleaned in place.
func (r redactor) cleanErr(err error) error {
	if err == nil || len(r) == 0 {
		return err
	}
	var se *StatusError
	if errors.As(err, &se) {
		se.Message = r.clean(se.Message)
	}
	msg := err.Error()
	if c := r.clean(msg); c != msg {
		return &redactedError{msg: c, err: err}
	}
	return err
}

// redactedError is an error whose text had a secret in it.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

func (s *stream) redactErr(err error) error    { return s.cfg.secrets.cleanErr(err) }
func (s *stream) redactString(v string) string { return s.cfg.secrets.clean(v) }
func (s *stream) redact(err error) any {
	if err == nil {
		return nil
	}
	return s.redactErr(err)
}
