package wsclient

// BufferCap is the capacity of c's unit buffer, for the tests of its bounds.
func BufferCap(c *Conn) int {
	c.rmu.Lock()
	defer c.rmu.Unlock()
	return cap(c.buf)
}
