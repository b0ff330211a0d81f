package wsclient

// Coalescing reports whether c's reads are being coalesced right now.
func Coalescing(c *Conn) bool {
	c.rmu.Lock()
	defer c.rmu.Unlock()
	cc, ok := c.ws.NetConn().(*coalesceConn)
	return ok && cc.on
}
