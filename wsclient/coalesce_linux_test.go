package wsclient

import (
	"errors"
	"net"
	"os"
	"testing"
	"time"
)

// tcpPair returns both ends of a loopback TCP connection.
func tcpPair(t *testing.T) (client, server net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	acc := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		acc <- c
	}()
	client, err = net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	server = <-acc
	if server == nil {
		t.Fatal("accept failed")
	}
	t.Cleanup(func() { client.Close(); server.Close() })
	return client, server
}

func coalescing(t *testing.T) (*coalesceConn, net.Conn) {
	t.Helper()
	c, s := tcpPair(t)
	cc, ok := coalesce(c).(*coalesceConn)
	if !ok {
		t.Skip("SO_RCVLOWAT is not settable here")
	}
	return cc, s
}

// Dense reads turn coalescing on; a few bytes alone then arrive after at
// most one poll, and turn it off.
func TestCoalesceOnWhenDenseOffWhenSparse(t *testing.T) {
	c, s := coalescing(t)
	buf := make([]byte, 64)
	for i := 0; !c.on; i++ {
		if i > 100000 { // reads must come within denseGap: allow a slow, busy machine many tries
			t.Fatal("coalescing never turned on")
		}
		if _, err := s.Write([]byte("x")); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Read(buf); err != nil {
			t.Fatal(err)
		}
	}
	go s.Write([]byte("alone"))
	start := time.Now()
	n, err := c.Read(buf)
	if err != nil || string(buf[:n]) != "alone" {
		t.Fatalf("Read = %q, %v", buf[:n], err)
	}
	d := time.Since(start)
	if d > 50*time.Millisecond {
		t.Errorf("a lone write took %v to arrive", d)
	}
	if d < coalescePoll {
		// The bytes were there before the read waited (the writer ran
		// first: a non-blocking read takes what is there, below the low
		// water mark too); no poll ran out, so nothing to judge.
		t.Skipf("the lone write arrived before the read waited (%v)", d)
	}
	if c.on {
		t.Error("coalescing is still on after a poll ran out")
	}
	if !c.applied.IsZero() {
		t.Errorf("the socket keeps a deadline of ours: %v", c.applied)
	}
}

// The caller's deadline is honoured while a coalescing read waits, whether
// set before the read or during it, and survives the poll's own.
func TestCoalesceKeepsCallersDeadline(t *testing.T) {
	c, _ := coalescing(t)
	if err := c.setLowat(coalesceLowat); err != nil {
		t.Fatal(err)
	}
	c.on = true
	buf := make([]byte, 64)

	c.SetReadDeadline(time.Now().Add(-time.Second))
	if _, err := c.Read(buf); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("past deadline: Read err = %v", err)
	}

	c.SetReadDeadline(time.Time{})
	c.on = true
	c.setLowat(coalesceLowat)
	done := make(chan error, 1)
	go func() {
		_, err := c.Read(buf)
		done <- err
	}()
	time.AfterFunc(20*time.Millisecond, func() { c.SetReadDeadline(time.Now()) })
	select {
	case err := <-done:
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("interrupted Read err = %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a deadline set during a read did not end it")
	}
}
