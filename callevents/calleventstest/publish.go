package calleventstest

import (
	"fmt"
	"slices"
	"time"
)

// The KAZOO call-event names (the WebSocket call-event bindings); the set is open: Publish takes
// any name.
const (
	ChannelCreate  = "CHANNEL_CREATE"
	ChannelAnswer  = "CHANNEL_ANSWER"
	ChannelBridge  = "CHANNEL_BRIDGE"
	ChannelHold    = "CHANNEL_HOLD"
	ChannelUnhold  = "CHANNEL_UNHOLD"
	ChannelDestroy = "CHANNEL_DESTROY"
	ParkParked     = "PARK_PARKED"
	ParkRetrieved  = "PARK_RETRIEVED"
	ParkAbandoned  = "PARK_ABANDONED"
)

// Event is one published event.
type Event struct {
	// Seq is its place in publish order, from 1.
	Seq int64
	// Account is the account id it belongs to; Name its event name; CallID its leg's call id.
	Account, Name, CallID string
	// Shape and Wrap are the dialect and envelope it was sent in.
	Shape Shape
	Wrap  Wrap
	// Object is the event object: the bytes a client should surface once it has unwrapped the
	// message. Message is the text message as sent (Object itself when Wrap is WrapNone).
	Object, Message []byte
	// Time is when it was published.
	Time time.Time
	// Sockets is how many sockets it was queued on (not counting duplicates).
	Sockets int
}

// Publish sends one event of account named name to every open socket whose token's filters let it
// through: the account must be one of the token's accounts filter, or without that filter the
// token's own account or a descendant (an accounts filter lists accounts, not subtrees); and the
// name must be one of the events filter, if any. The event is rendered in the current Shape and Wrap;
// fields are then merged into the event object (a key the shape already has keeps its place, others
// are appended, in key order), each value marshalled with encoding/json. Every call gets a fresh
// call id, Msg-ID (strictly increasing µs) and Event-Sequence, so no two published events share
// the specification's dedupe key unless fields say so. Publish never blocks: a socket whose queue is
// full is cut (EndSlow). It returns the event; Events lists them all.
func (s *Server) Publish(account, name string, fields map[string]any) Event {
	return s.publish(account, name, "", fields)
}

func (s *Server) publish(account, name, callID string, fields map[string]any) Event {
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq++
	acct, ok := s.tree.account(account)
	if !ok {
		acct = Account{ID: account, Name: account, Realm: account + ".invalid"}
	}
	us := max(now.UnixMicro(), s.lastMsgID+1)
	s.lastMsgID = us
	if callID == "" {
		callID = s.callID(s.seq)
	}
	in := eventIn{
		acct:     acct,
		reseller: acct.Parent,
		name:     name,
		callID:   callID,
		at:       time.UnixMicro(us),
		msgID:    us,
		coreUUID: uuid(s.nonce, 0),
		eventSeq: s.seq,
	}
	var o object
	switch s.shape {
	case ShapeWebhook:
		o = renderWebhook(in)
	case ShapeFreeSWITCH:
		o = renderFreeSWITCH(in)
	default:
		o = renderKazoo(in)
	}
	o.fields(fields)
	obj := o.render()
	ev := Event{
		Seq: s.seq, Account: account, Name: name, CallID: callID,
		Shape: s.shape, Wrap: s.wrap,
		Object: obj, Message: wrap(s.wrap, in, obj), Time: now,
	}
	dup := s.dupEvery > 0 && s.seq%int64(s.dupEvery) == 0
	for sk := range s.sockets {
		if !s.matches(sk.g, account, name) {
			continue
		}
		ev.Sockets++
		sk.send(ev.Message)
		if dup {
			sk.send(ev.Message)
		}
	}
	s.events = append(s.events, ev)
	return ev
}

// SendRaw sends msg as it is, as one text message, to every open socket whatever its filters, and
// returns how many sockets it went to. It is not recorded in Events: it exists to test what a client
// makes of messages no shape describes (malformed, unknown, several values in one message).
func (s *Server) SendRaw(msg []byte) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	msg = append([]byte(nil), msg...)
	for sk := range s.sockets {
		sk.send(msg)
	}
	return len(s.sockets)
}

// matches reports whether a token's grant lets an event of account and name through.
func (s *Server) matches(g *grant, account, name string) bool {
	if g.accounts != nil {
		if !slices.Contains(g.accounts, account) {
			return false
		}
	} else if !s.tree.within(account, g.acct.ID) {
		return false
	}
	return g.events == nil || slices.Contains(g.events, name)
}

// Events returns every event published so far, in publish order. The byte slices are shared: do not
// modify them.
func (s *Server) Events() []Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.events)
}

// callID makes the n-th call id of this server: a version-4-looking UUID.
func (s *Server) callID(n int64) string { return uuid(s.nonce, n) }

func uuid(nonce string, n int64) string {
	return fmt.Sprintf("%s-%s-4%s-8%s-%012x", nonce[:8], nonce[8:12], nonce[12:15], nonce[15:18], n)
}

// generate publishes rate events per second until Close: calls of CREATE, ANSWER and DESTROY, the
// accounts in turn.
func (s *Server) generate(rate float64) {
	defer s.active.Done()
	names := [...]string{ChannelCreate, ChannelAnswer, ChannelDestroy}
	start := time.Now()
	t := time.NewTimer(0)
	defer t.Stop()
	for k := int64(0); ; {
		select {
		case <-s.ctx.Done():
			return
		case <-t.C:
		}
		due := int64(time.Since(start).Seconds() * rate)
		for ; k < due; k++ {
			call := k / 3
			acct := RootAccount
			if n := len(s.cfg.accounts); n > 0 {
				acct = s.cfg.accounts[int(call)%n].ID
			}
			s.publish(acct, names[k%3], uuid(s.nonce, 1<<40+call), nil)
		}
		next := start.Add(time.Duration(float64(k+1) / rate * float64(time.Second)))
		t.Reset(max(time.Until(next), time.Millisecond))
	}
}
