package calleventstest

import (
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Shape is the payload dialect of the events the server sends. The real firehose's format is not
// documented; these are the three candidates of the specification, each built from its field list.
type Shape int

const (
	// ShapeKazoo is KAZOO's AMQP call_event: Title-Case keys with hyphens (Event-Name, Call-ID,
	// Msg-ID as a 16-digit µs string, Timestamp as integer Gregorian seconds, Custom-Channel-Vars
	// with Account-ID, …).
	ShapeKazoo Shape = iota
	// ShapeWebhook is KAZOO's webhook body: snake_case keys (hook_event in lower case, call_id,
	// account_id, timestamp as Gregorian seconds in a string, …), no message id.
	ShapeWebhook
	// ShapeFreeSWITCH is FreeSWITCH's ESL text/event-json: a flat object of strings (Event-Name,
	// Core-UUID, Event-Sequence, Event-Date-Timestamp in µs, Unique-ID, …).
	ShapeFreeSWITCH
)

func (s Shape) String() string {
	switch s {
	case ShapeKazoo:
		return "kazoo"
	case ShapeWebhook:
		return "webhook"
	case ShapeFreeSWITCH:
		return "freeswitch"
	}
	return "Shape(" + strconv.Itoa(int(s)) + ")"
}

// Wrap is the envelope around the event object in a message.
type Wrap int

const (
	// WrapNone sends the bare event object.
	WrapNone Wrap = iota
	// WrapBlackhole sends KAZOO Blackhole's current envelope:
	// {"action":"event","subscribed_key":…,"subscription_key":…,"name":…,"routing_key":"call.<EVENT>.<call id>","data":{…}}.
	WrapBlackhole
	// WrapArgs sends Blackhole's older envelope: {"name":…,"args":{…}}.
	WrapArgs
)

func (w Wrap) String() string {
	switch w {
	case WrapNone:
		return "none"
	case WrapBlackhole:
		return "blackhole"
	case WrapArgs:
		return "args"
	}
	return "Wrap(" + strconv.Itoa(int(w)) + ")"
}

// gregorianOffset is the number of seconds from 0000-01-01 to the Unix epoch (KAZOO's clock).
const gregorianOffset = 62167219200

// member is one key of an object being built, its value already JSON.
type member struct {
	k string
	v []byte
}

// object is a JSON object built in order, so the bytes on the wire are stable.
type object []member

func (o *object) raw(k string, v []byte) {
	for i := range *o {
		if (*o)[i].k == k {
			(*o)[i].v = v
			return
		}
	}
	*o = append(*o, member{k, v})
}

func (o *object) str(k, v string)          { o.raw(k, jsonString(v)) }
func (o *object) i64(k string, v int64)    { o.raw(k, strconv.AppendInt(nil, v, 10)) }
func (o *object) boolean(k string, v bool) { o.raw(k, strconv.AppendBool(nil, v)) }

// fields merges the caller's fields, in key order: an existing key keeps its place.
func (o *object) fields(f map[string]any) {
	keys := make([]string, 0, len(f))
	for k := range f {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		v, err := json.Marshal(f[k])
		if err != nil {
			v = jsonString(err.Error())
		}
		o.raw(k, v)
	}
}

func (o object) render() []byte {
	b := []byte{'{'}
	for i, m := range o {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, jsonString(m.k)...)
		b = append(b, ':')
		b = append(b, m.v...)
	}
	return append(b, '}')
}

func jsonString(s string) []byte {
	b, _ := json.Marshal(s)
	return b
}

// eventIn is what one published event is made of.
type eventIn struct {
	acct     Account
	reseller string // the account's parent, for reseller_id
	name     string
	callID   string
	at       time.Time
	msgID    int64 // µs since the epoch, unique per server
	coreUUID string
	eventSeq int64
}

// Fictional numbers (555-01xx) and documentation addresses (192.0.2.0/24) only.
const (
	mockCallerName   = "Mock Caller"
	mockCallerNumber = "+15555550100"
	mockCallee       = "2001"
	mockNode         = "ecallmgr@mock.test"
	mockMediaServer  = "fs1.mock.test"
	mockIPv4         = "192.0.2.10"
)

// renderKazoo builds the KAZOO AMQP call_event.
func renderKazoo(e eventIn) object {
	realm := e.acct.Realm
	var o object
	o.str("Event-Category", "call_event")
	o.str("Event-Name", e.name)
	o.str("Call-ID", e.callID)
	o.str("Msg-ID", strconv.FormatInt(e.msgID, 10))
	o.i64("Timestamp", e.at.Unix()+gregorianOffset)
	o.str("Call-Direction", "inbound")
	o.str("Caller-ID-Name", mockCallerName)
	o.str("Caller-ID-Number", mockCallerNumber)
	o.str("From", mockCallerNumber+"@"+realm)
	o.str("To", mockCallee+"@"+realm)
	o.str("Request", mockCallee+"@"+realm)
	o.str("From-Uri", "sip:"+mockCallerNumber+"@"+realm)
	o.str("To-Uri", "sip:"+mockCallee+"@"+realm)
	o.str("Presence-ID", mockCallee+"@"+realm)
	o.str("Node", mockNode)
	o.str("Media-Server", mockMediaServer)
	o.str("Switch-URI", "sip:"+mockIPv4+":5060")
	o.str("Switch-URL", "sip:mod_sofia@"+mockIPv4+":5060")
	o.str("App-Name", "ecallmgr")
	o.str("App-Version", "4.3.0")
	var ccv object
	ccv.str("Account-ID", e.acct.ID)
	ccv.str("Account-Name", e.acct.Name)
	ccv.str("Account-Realm", realm)
	ccv.str("Realm", realm)
	ccv.str("Owner-ID", ownerID(e))
	ccv.str("Authorizing-ID", ownerID(e))
	ccv.str("Authorizing-Type", "device")
	ccv.str("Bridge-ID", e.callID)
	ccv.str("Username", "user_mock")
	ccv.str("Application-Name", "callflow")
	o.raw("Custom-Channel-Vars", ccv.render())
	o.raw("Custom-SIP-Headers", []byte(`{}`))
	if e.name == "CHANNEL_DESTROY" {
		o.str("Disposition", "SUCCESS")
		o.str("Hangup-Cause", "NORMAL_CLEARING")
		o.str("Duration-Seconds", "42")
		o.str("Billing-Seconds", "40")
		o.str("Ringing-Seconds", "2")
		o.str("User-Agent", "mock-phone/1.0")
		o.str("To-Tag", "mocktag"+strconv.FormatInt(e.eventSeq, 10))
		o.str("Remote-SDP", "v=0\r\no=- 1 1 IN IP4 "+mockIPv4+"\r\ns=-\r\n")
	}
	return o
}

// renderWebhook builds the KAZOO webhook body.
func renderWebhook(e eventIn) object {
	realm := e.acct.Realm
	var o object
	o.str("hook_event", strings.ToLower(e.name))
	o.str("account_id", e.acct.ID)
	o.str("call_id", e.callID)
	o.str("call_direction", "inbound")
	o.str("caller_id_name", mockCallerName)
	o.str("caller_id_number", mockCallerNumber)
	o.str("callee_id_name", "Mock Callee")
	o.str("callee_id_number", mockCallee)
	o.str("from", mockCallerNumber+"@"+realm)
	o.str("to", mockCallee+"@"+realm)
	o.str("request", mockCallee+"@"+realm)
	o.str("inception", "onnet")
	o.str("owner_id", ownerID(e))
	o.str("authorizing_id", ownerID(e))
	o.str("authorizing_type", "device")
	if e.reseller != "" {
		o.str("reseller_id", e.reseller)
	}
	o.boolean("is_internal_leg", false)
	o.boolean("call_forwarded", false)
	o.boolean("emergency_resource_used", false)
	o.boolean("local_resource_used", false)
	o.raw("custom_channel_vars", []byte(`{}`))
	o.raw("custom_application_vars", []byte(`{}`))
	o.str("timestamp", strconv.FormatInt(e.at.Unix()+gregorianOffset, 10))
	switch e.name {
	case "CHANNEL_BRIDGE":
		o.str("other_leg_call_id", e.callID+"-b")
		o.str("original_number", mockCallee)
		o.str("other_leg_destination_number", mockCallee)
	case "CHANNEL_DESTROY":
		o.str("hangup_cause", "NORMAL_CLEARING")
		o.str("hangup_code", "sip:200")
		o.i64("duration_seconds", 42)
		o.i64("ringing_seconds", 2)
		o.i64("billing_seconds", 40)
	}
	return o
}

// renderFreeSWITCH builds the ESL event-json object: every value a string.
func renderFreeSWITCH(e eventIn) object {
	utc := e.at.UTC()
	var o object
	o.str("Event-Name", e.name)
	o.str("Core-UUID", e.coreUUID)
	o.str("FreeSWITCH-Hostname", mockMediaServer)
	o.str("FreeSWITCH-Switchname", mockMediaServer)
	o.str("FreeSWITCH-IPv4", mockIPv4)
	o.str("FreeSWITCH-IPv6", "::1")
	o.str("Event-Date-Local", utc.Format("2006-01-02 15:04:05"))
	o.str("Event-Date-GMT", utc.Format(time.RFC1123))
	o.str("Event-Date-Timestamp", strconv.FormatInt(e.msgID, 10))
	o.str("Event-Calling-File", "switch_channel.c")
	o.str("Event-Calling-Function", "switch_channel_perform_mark_answered")
	o.str("Event-Calling-Line-Number", "3900")
	o.str("Event-Sequence", strconv.FormatInt(e.eventSeq, 10))
	o.str("Channel-State", "CS_EXECUTE")
	o.str("Channel-Call-State", "ACTIVE")
	o.str("Channel-Name", "sofia/"+e.acct.Realm+"/"+mockCallerNumber)
	o.str("Unique-ID", e.callID)
	o.str("Channel-Call-UUID", e.callID)
	o.str("Call-Direction", "inbound")
	o.str("Answer-State", "answered")
	o.str("Caller-Caller-ID-Name", mockCallerName)
	o.str("Caller-Caller-ID-Number", mockCallerNumber)
	o.str("Caller-Destination-Number", mockCallee)
	o.str("variable_ecallmgr_Account-ID", e.acct.ID)
	o.str("variable_ecallmgr_Realm", e.acct.Realm)
	if e.name == "CHANNEL_DESTROY" {
		o.str("Hangup-Cause", "NORMAL_CLEARING")
	}
	return o
}

func ownerID(e eventIn) string {
	// a stable, made-up 32-hex device id per account
	id := []byte(e.acct.ID)
	for i, c := range id {
		if c >= '0' && c <= '9' {
			id[i] = 'f' - (c - '0')
		}
	}
	return string(id)
}

// wrap puts the object into its envelope.
func wrap(w Wrap, e eventIn, obj []byte) []byte {
	switch w {
	case WrapBlackhole:
		key := "call." + e.name + ".*"
		var o object
		o.str("action", "event")
		o.str("subscribed_key", key)
		o.str("subscription_key", key)
		o.str("name", e.name)
		o.str("routing_key", "call."+e.name+"."+e.callID)
		o.raw("data", obj)
		return o.render()
	case WrapArgs:
		var o object
		o.str("name", e.name)
		o.raw("args", obj)
		return o.render()
	}
	return obj
}
