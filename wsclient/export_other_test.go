//go:build !linux

package wsclient

// Coalescing reports whether c's reads are being coalesced: never here.
func Coalescing(*Conn) bool { return false }
