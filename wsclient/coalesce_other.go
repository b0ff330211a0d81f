//go:build !linux

package wsclient

import "net"

// coalesce is Linux's alone (SO_RCVLOWAT); elsewhere reads are unchanged.
func coalesce(c net.Conn) net.Conn { return c }

// coalesceReadBuffer is gorilla's read buffer under coalescing: elsewhere,
// the plain one.
const coalesceReadBuffer = readBuffer
