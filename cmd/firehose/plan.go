package main

import (
	"context"
	"fmt"
	"strconv"

	"github.com/firehose-go/firehose"
)

func runPlan(_ context.Context, e *env, args []string) int {
	fs := e.newFlagSet("plan", "N",
		"Print the partitions each of N receivers (1 to 12) consumes, one receiver a line.\n"+
			"Receiver I of N (tail --receiver I/N) always gets the same range.")
	if code := e.parseFlags(fs, args); code >= 0 {
		return code
	}
	if fs.NArg() != 1 {
		return e.usageError("plan", "want exactly one argument, the number of receivers")
	}
	n, err := strconv.Atoi(fs.Arg(0))
	if err != nil {
		return e.usageError("plan", fmt.Sprintf("receivers %q: not a number", fs.Arg(0)))
	}
	plan, err := firehose.Plan(n)
	if err != nil {
		return e.usageError("plan", err.Error())
	}
	for i, r := range plan {
		if r.Min == r.Max {
			fmt.Fprintf(e.stdout, "receiver %d: partition %d\n", i, r.Min)
		} else {
			fmt.Fprintf(e.stdout, "receiver %d: partitions %s\n", i, r)
		}
	}
	return exitOK
}
