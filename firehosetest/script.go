package firehosetest

// Conn scripts one connection attempt (see WithScript). The zero Conn serves the attempt normally.
//
// The script works in counts of events: real log events sent for the first time on this connection
// (duplicates, keep-alives and injected lines do not count). When the count reaches the fault point —
// After, or Duplicates if that is larger — the server re-sends the duplicate burst, then the lines
// injected at that point, then performs Action.
type Conn struct {
	// Status, when not 0, rejects the attempt with this HTTP status (401, 403, 400, 404, 429, 500,
	// 503…) and Message as the body, whatever the request looks like.
	Status int
	// RetryAfter, with Status, is sent as the Retry-After header: seconds ("5") or an HTTP date.
	RetryAfter string
	// Message is the body of a Status rejection (default: the status text).
	Message string

	// After is the number of events served before Action fires (0 = before the first event).
	After int
	// Action is what happens at the fault point.
	Action Action
	// Duplicates re-sends the last Duplicates events once more right after they were sent (a
	// duplicate burst, in their original order), at the fault point; then the stream goes on.
	Duplicates int
	// Inject inserts bad lines; each one after At events were served, in slice order.
	Inject []Inject

	// CloseCode is the code of the close frame a WebSocket connection sends at EndStream, with
	// Message as its reason (default 1000, normal closure; 1013 is "try again later"). Other
	// transports ignore it.
	CloseCode int
	// LinesPerMessage packs up to that many lines ready at once into one WebSocket text message,
	// each ending in "\n" (0 or 1: one line per message, as Cisco sends). Other transports ignore it.
	LinesPerMessage int
}

// Action is what a scripted connection does at its fault point.
type Action int

const (
	// None does nothing: the stream goes on.
	None Action = iota
	// Cut closes the connection abruptly between two lines (HTTP/1: the TCP connection is closed
	// without the final chunk; HTTP/2: the stream is reset).
	Cut
	// CutMidLine writes the first half of the next line (an event, or a keep-alive if that comes
	// first), then closes abruptly as Cut does.
	CutMidLine
	// Stall sends nothing more at all — not even keep-alives — until the client goes away or the
	// server is closed.
	Stall
	// EndStream ends the response cleanly, as if the server had finished.
	EndStream
)

// String returns the action's name.
func (a Action) String() string {
	switch a {
	case None:
		return "None"
	case Cut:
		return "Cut"
	case CutMidLine:
		return "CutMidLine"
	case Stall:
		return "Stall"
	case EndStream:
		return "EndStream"
	}
	return "Action(?)"
}

// Inject is a bad line inserted in a scripted stream. Injected lines are never part of the Log.
type Inject struct {
	// At is the number of events served before the line (0 = first thing in the stream).
	At int
	// Kind is what to insert.
	Kind InjectKind
	// Size is the length in bytes, newline excluded, of an Oversized line (default DefaultOversize;
	// sizes below a minimal event's length give that minimal event).
	Size int
}

// InjectKind is the kind of an injected line.
type InjectKind int

const (
	// Malformed is a line that is not JSON: an event cut off after its first keys, plus garbage.
	Malformed InjectKind = iota
	// Oversized is a syntactically valid DEVICE_LOCATION_UPDATE event padded to Inject.Size bytes
	// (its device's deviceModel holds the padding).
	Oversized
	// UnknownType is a valid event of the type SPACE_OCCUPANCY, which the EventType enum lacks,
	// with a spaceOccupancy payload.
	UnknownType
	// BinaryMessage is a binary WebSocket message holding an event; other transports skip it.
	BinaryMessage
)

// String returns the kind's name.
func (k InjectKind) String() string {
	switch k {
	case Malformed:
		return "Malformed"
	case Oversized:
		return "Oversized"
	case UnknownType:
		return "UnknownType"
	case BinaryMessage:
		return "BinaryMessage"
	}
	return "InjectKind(?)"
}

// point is the number of events after which a scripted Conn's burst, point injections and Action
// happen.
func (c *Conn) point() int {
	if c.Duplicates > c.After {
		return c.Duplicates
	}
	return c.After
}

// chaosConn derives the fault of attempt n for WithChaos.
func chaosConn(seed int64, every, n int) Conn {
	r := rng{s: mix64(uint64(seed)^0x6368616f73) ^ mix64(uint64(n)+0x9e37)}
	lo := max(every/2, 1)
	c := Conn{After: lo + r.intn(every+1)}
	switch x := r.intn(20); {
	case x < 9:
		c.Action = Cut
	case x < 18:
		c.Action = CutMidLine
	default:
		c.Action = EndStream
	}
	if r.intn(2) == 0 {
		c.Duplicates = 1 + r.intn(min(c.After, 32))
	}
	if r.intn(4) == 0 {
		c.Inject = []Inject{{At: r.intn(c.After + 1), Kind: Malformed}}
	}
	return c
}
