package main

import (
	"context"
	"fmt"
	"runtime/debug"
)

func runVersion(_ context.Context, e *env, args []string) int {
	fs := e.newFlagSet("version", "", "Print the module's version, the VCS revision it was built from and the Go version.")
	if code := e.parseFlags(fs, args); code >= 0 {
		return code
	}
	if fs.NArg() > 0 {
		return e.usageError("version", fmt.Sprintf("unexpected argument %q", fs.Arg(0)))
	}
	fmt.Fprintln(e.stdout, versionText(debug.ReadBuildInfo()))
	return exitOK
}

// versionText is "firehose VERSION (revision REV[, modified], TIME) GO".
func versionText(bi *debug.BuildInfo, ok bool) string {
	if !ok || bi == nil {
		return "firehose (no build information)"
	}
	version := bi.Main.Version
	if version == "" {
		version = "(devel)"
	}
	var rev, at, modified string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.time":
			at = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				modified = ", modified"
			}
		}
	}
	out := "firehose " + bi.Main.Path + " " + version
	if rev != "" {
		out += " (revision " + rev + modified
		if at != "" {
			out += ", " + at
		}
		out += ")"
	}
	return out + " " + bi.GoVersion
}
