package main

import (
	"strings"

	"github.com/firehose-go/firehose/internal/printable"
)

// cleanError is an error's text for the CLI's own "firehose CMD: " prefix:
// sanitized, without the library's "firehose: " prefixes that would double
// it ("firehose tail: firehose: ...").
func cleanError(err error) string {
	s := printable.Clean(err.Error())
	s = strings.TrimPrefix(s, "firehose: ")
	for _, sep := range []string{": ", "; ", "(", ", "} {
		s = strings.ReplaceAll(s, sep+"firehose: ", sep)
	}
	return s
}
