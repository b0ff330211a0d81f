//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package main

import "errors"

var errNoTerminal = errors.New("terminal control not supported here")

// cbreak is not available here: keys wait for Enter.
func cbreak(int) (func(), error) { return nil, errNoTerminal }

func windowSize(int) (int, int, error) { return 0, 0, errNoTerminal }
