package printable_test

import (
	"testing"

	"github.com/firehose-go/firehose/internal/printable"
)

func TestClean(t *testing.T) {
	for in, want := range map[string]string{
		"plain text":                   "plain text",
		"\x1b[31mred\x1b[0m":           "red",
		"title\x1b]0;evil\x07 after":   "title after",
		"st\x1b]8;;http://x\x1b\\link": "stlink",
		"a\tb\nc\rd":                   "a b c d",
		"nul\x00 del\x7f bell\x07":     "nul del bell",
		"c1\u009b31mcsi \u0085nel":     "c1csi nel",
		"bidi \u202egnp.exe":           "bidi gnp.exe",
		"bad \xff utf8":                "bad \ufffd utf8",
		"cut \x1b[":                    "cut ",
		"ünïcödé ✓":                    "ünïcödé ✓",
		"esc alone \x1b":               "esc alone ",
		"charset \x1b(Bplain":          "charset plain",
	} {
		if got := printable.Clean(in); got != want {
			t.Errorf("Clean(%q) = %q, want %q", in, got, want)
		}
	}
}
