package main

import "github.com/firehose-go/firehose/internal/cliexit"

// cleanError is an error's text for the CLI's own "firehose CMD: " prefix:
// sanitized, without the library's "firehose: " prefixes that would double
// it ("firehose tail: firehose: ...").
func cleanError(err error) string { return cliexit.Clean(err) }
