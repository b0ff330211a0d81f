package callevents

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// redacted stands for a secret in anything printed.
const redacted = "[REDACTED]"

// secret is a string that never prints: a password or a token held in a struct stays out of fmt,
// %v, %+v, %#v and slog output alike.
type secret string

func (s secret) String() string             { return redacted }
func (s secret) GoString() string           { return `"` + redacted + `"` }
func (s secret) Format(f fmt.State, _ rune) { f.Write([]byte(redacted)) }
func (s secret) LogValue() string           { return redacted }

// scrub replaces every occurrence of each secret in s — as is, URL-escaped and JSON-escaped — with
// [REDACTED]. Empty secrets are skipped.
func scrub(s string, secrets ...string) string {
	for _, sec := range secrets {
		if sec == "" {
			continue
		}
		for _, form := range forms(sec) {
			s = strings.ReplaceAll(s, form, redacted)
		}
	}
	return s
}

func forms(sec string) []string {
	out := []string{sec}
	if q := url.QueryEscape(sec); q != sec {
		out = append(out, q)
	}
	if p := url.PathEscape(sec); p != sec && p != out[len(out)-1] {
		out = append(out, p)
	}
	if j, err := json.Marshal(sec); err == nil {
		js := string(j[1 : len(j)-1])
		if js != sec {
			out = append(out, js)
		}
		if sl := strings.ReplaceAll(js, "/", `\/`); sl != js {
			out = append(out, sl) // encoders that escape the solidus
		}
	}
	return out
}

// scrubbedError is an error whose text has the secrets taken out. It keeps the original for
// errors.Is (sentinels such as context.Canceled or firehose.ErrFatal have fixed texts), but neither
// for errors.Unwrap nor for errors.As: the original's text, or a field of it, may hold the secret.
type scrubbedError struct {
	msg string
	err error
}

func (e *scrubbedError) Error() string        { return e.msg }
func (e *scrubbedError) Is(target error) bool { return errors.Is(e.err, target) }

// scrubError returns err with the secrets taken out of its text, or err itself when its text holds
// none of them.
func scrubError(err error, secrets ...string) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	clean := scrub(msg, secrets...)
	if clean == msg {
		return err
	}
	return &scrubbedError{msg: clean, err: err}
}
