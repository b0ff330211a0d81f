package firehose

import (
	"encoding/json"
	"errors"
	"strconv"
	"sync"
	"time"
)

// EventType names the kind of an event: Cisco's eventType, an open set of
// strings. Events of a type this package has no constant for are delivered
// all the same, with their name kept.
type EventType string

// The event types the Cisco Spaces Firehose documents. The first twenty have
// enum numbers in the gRPC proto; the later ones are listed by Cisco's v2
// documentation without numbers or payload messages.
const (
	DeviceEntry            EventType = "DEVICE_ENTRY"
	DeviceExit             EventType = "DEVICE_EXIT"
	ProfileUpdate          EventType = "PROFILE_UPDATE"
	LocationChange         EventType = "LOCATION_CHANGE"
	KeepAlive              EventType = "KEEP_ALIVE" // liveness only: never delivered
	AppActivation          EventType = "APP_ACTIVATION"
	AccountAdminActivation EventType = "ACCOUNT_ADMIN_ACTIVATION"
	DeviceLocationUpdate   EventType = "DEVICE_LOCATION_UPDATE"
	TPPeopleCountUpdate    EventType = "TP_PEOPLE_COUNT_UPDATE"
	AppDeActivation        EventType = "APP_DE_ACTIVATION"
	DevicePresence         EventType = "DEVICE_PRESENCE"
	UserPresence           EventType = "USER_PRESENCE"
	IOTTelemetry           EventType = "IOT_TELEMETRY"
	IOTUserAction          EventType = "IOT_USER_ACTION"
	DeviceCount            EventType = "DEVICE_COUNT"
	CameraCount            EventType = "CAMERA_COUNT"
	RawCameraCount         EventType = "RAW_CAMERA_COUNT"
	NetworkTelemetry       EventType = "NETWORK_TELEMETRY"
	LocationAnchorUpdate   EventType = "LOCATION_ANCHOR_UPDATE"
	NetworkStatusUpdate    EventType = "NETWORK_STATUS_UPDATE"

	DeviceAssociation    EventType = "DEVICE_ASSOCIATION"
	DeviceRSSIUpdate     EventType = "DEVICE_RSSI_UPDATE"
	WifiDeviceUpdate     EventType = "WIFI_DEVICE_UPDATE"
	BLERSSIUpdate        EventType = "BLE_RSSI_UPDATE"
	AssetLocationUpdate  EventType = "ASSET_LOCATION_UPDATE"
	APTopologyChange     EventType = "AP_TOPOLOGY_CHANGE"
	WebexTelemetry       EventType = "WEBEX_TELEMETRY"
	SpaceOccupancy       EventType = "SPACE_OCCUPANCY"
	SpaceOccupancyChange EventType = "SPACE_OCCUPANCY_CHANGE"
	BuildingFeature      EventType = "BUILDING_FEATURE"
)

// Known reports whether t is one of the documented types above.
func (t EventType) Known() bool {
	_, ok := internType([]byte(t))
	return ok
}

// documentedTypes lists the constants above in order: the first twenty are
// numbered in the gRPC proto's EventType enum. A type's index here is its
// slot in Stats' per-type counters.
var documentedTypes = [...]EventType{
	DeviceEntry,
	DeviceExit,
	ProfileUpdate,
	LocationChange,
	KeepAlive,
	AppActivation,
	AccountAdminActivation,
	DeviceLocationUpdate,
	TPPeopleCountUpdate,
	AppDeActivation,
	DevicePresence,
	UserPresence,
	IOTTelemetry,
	IOTUserAction,
	DeviceCount,
	CameraCount,
	RawCameraCount,
	NetworkTelemetry,
	LocationAnchorUpdate,
	NetworkStatusUpdate,
	DeviceAssociation,
	DeviceRSSIUpdate,
	WifiDeviceUpdate,
	BLERSSIUpdate,
	AssetLocationUpdate,
	APTopologyChange,
	WebexTelemetry,
	SpaceOccupancy,
	SpaceOccupancyChange,
	BuildingFeature,
}

const numberedTypes = 20 // documentedTypes[:numberedTypes] have enum numbers

// TypeOther is the key Stats.EventsByType counts every event under whose
// type is not one of the documented Cisco types (every event of a source
// other than Cisco's).
const TypeOther EventType = "other"

// internType maps the bytes of a documented type name to its constant without
// allocating, so the type of an event never pins or aliases a read buffer.
func internType(b []byte) (EventType, bool) {
	if i, ok := typeIndex(b); ok {
		return documentedTypes[i], true
	}
	return "", false
}

// typeIndex is a documented type's index in documentedTypes.
func typeIndex(b []byte) (int, bool) {
	switch string(b) {
	case "DEVICE_LOCATION_UPDATE":
		return 7, true
	case "KEEP_ALIVE":
		return 4, true
	case "DEVICE_ENTRY":
		return 0, true
	case "DEVICE_EXIT":
		return 1, true
	case "PROFILE_UPDATE":
		return 2, true
	case "LOCATION_CHANGE":
		return 3, true
	case "APP_ACTIVATION":
		return 5, true
	case "ACCOUNT_ADMIN_ACTIVATION":
		return 6, true
	case "TP_PEOPLE_COUNT_UPDATE":
		return 8, true
	case "APP_DE_ACTIVATION":
		return 9, true
	case "DEVICE_PRESENCE":
		return 10, true
	case "USER_PRESENCE":
		return 11, true
	case "IOT_TELEMETRY":
		return 12, true
	case "IOT_USER_ACTION":
		return 13, true
	case "DEVICE_COUNT":
		return 14, true
	case "CAMERA_COUNT":
		return 15, true
	case "RAW_CAMERA_COUNT":
		return 16, true
	case "NETWORK_TELEMETRY":
		return 17, true
	case "LOCATION_ANCHOR_UPDATE":
		return 18, true
	case "NETWORK_STATUS_UPDATE":
		return 19, true
	case "DEVICE_ASSOCIATION":
		return 20, true
	case "DEVICE_RSSI_UPDATE":
		return 21, true
	case "WIFI_DEVICE_UPDATE":
		return 22, true
	case "BLE_RSSI_UPDATE":
		return 23, true
	case "ASSET_LOCATION_UPDATE":
		return 24, true
	case "AP_TOPOLOGY_CHANGE":
		return 25, true
	case "WEBEX_TELEMETRY":
		return 26, true
	case "SPACE_OCCUPANCY":
		return 27, true
	case "SPACE_OCCUPANCY_CHANGE":
		return 28, true
	case "BUILDING_FEATURE":
		return 29, true
	}
	return 0, false
}

// numbered reports whether t has a number in the gRPC proto's EventType enum
// (the first twenty constants above).
func (t EventType) numbered() bool {
	i, ok := typeIndex([]byte(t))
	return ok && i < numberedTypes
}

// ErrNoPayload is returned by Decode for an event that carries no payload object.
var ErrNoPayload = errors.New("firehose: event has no payload")

// Event is one firehose event. Its core is what every firehose has: an ID to
// deduplicate on, a timestamp in epoch milliseconds, a type name and the raw
// bytes as received. For the Cisco Spaces Firehose:
//
//	ID()        recordUid
//	Timestamp() recordTimestamp (epoch ms)
//	Type()      eventType
//	JSON()      the NDJSON line (for gRPC, rendered in the same shape on demand)
//	Payload()   the payload object, e.g. the value of "deviceLocationUpdate"
//
// and the tenant fields spacesTenantId, spacesTenantName and partnerTenantId.
//
// An Event returned by Next or passed to a Run handler is owned by the caller:
// it is immutable and stays valid after the next event arrives. It holds one
// copy of the bytes received, and its string fields are views into that copy.
// An Event is safe for concurrent reads.
type Event struct {
	raw        []byte // the line (formatJSON) or the serialized record (formatProto); never modified
	id         string
	typ        EventType
	ts         int64
	tenantID   string
	tenantName string
	partnerID  string
	payloadKey string
	payload    []byte
	format     format
	ext        *eventExt // transport extras (gRPC's decoded record and rendered JSON)
}

// ID is the event's unique identifier (Cisco: recordUid). IDs are short and
// may repeat over time; (ID, Timestamp) identifies an event.
func (e *Event) ID() string { return e.id }

// Timestamp is the event's time in milliseconds since the Unix epoch (Cisco:
// recordTimestamp), as stamped by the server. It is not monotonic within a
// stream.
func (e *Event) Timestamp() int64 { return e.ts }

// Time is Timestamp as a time.Time.
func (e *Event) Time() time.Time { return time.UnixMilli(e.ts) }

// Type is the event type (Cisco: eventType), kept as received even when this
// package has no constant for it.
func (e *Event) Type() EventType { return e.typ }

// SpacesTenantID is Cisco's spacesTenantId ("" when absent).
func (e *Event) SpacesTenantID() string { return e.tenantID }

// SpacesTenantName is Cisco's spacesTenantName ("" when absent).
func (e *Event) SpacesTenantName() string { return e.tenantName }

// PartnerTenantID is Cisco's partnerTenantId ("" when absent).
func (e *Event) PartnerTenantID() string { return e.partnerID }

// PayloadKey is the name of the payload object, such as
// "deviceLocationUpdate" ("" when the event has none).
func (e *Event) PayloadKey() string { return e.payloadKey }

// JSON returns the event as one JSON object without a trailing newline: the
// line exactly as received for HTTP and WebSocket, and for gRPC a rendering
// in the same shape (made on first call). The caller must not modify it.
func (e *Event) JSON() []byte {
	if e.format == formatProto {
		return e.ext.json(e)
	}
	return e.raw
}

// Payload returns the raw payload object (nil when the event has none). The
// payload is not parsed when the event arrives: it is validated only when
// decoded. The caller must not modify it.
func (e *Event) Payload() json.RawMessage {
	if e.format == formatProto {
		return e.ext.payload(e)
	}
	return e.payload
}

// Decode unmarshals the payload object into v with encoding/json. It returns
// ErrNoPayload when the event carries none.
func (e *Event) Decode(v any) error {
	p := e.Payload()
	if len(p) == 0 {
		return ErrNoPayload
	}
	return json.Unmarshal(p, v)
}

// String describes the event in one short line, for logs.
func (e *Event) String() string {
	if e == nil {
		return "<nil event>"
	}
	return string(e.typ) + " " + e.id + " @" + strconv.FormatInt(e.ts, 10)
}

// newFrameEvent makes an owned event from a frame: one copy of its bytes,
// every field a view into the copy (a field that does not alias the bytes,
// such as a string the scanner had to unescape, is copied on its own). A
// Cisco JSON line adds its tenant fields.
func newFrameEvent(f *Frame) *Event {
	line := f.Raw
	raw := make([]byte, len(line))
	copy(raw, line)
	// Every field is computed first and the Event allocated last, in one
	// literal: stores into a fresh object need no write barrier, which
	// field-by-field stores into an Event already on the heap would pay
	// whenever the GC is marking (often, at this allocation rate).
	var payload []byte
	if f.Payload != nil {
		if off, ok := offsetIn(line, f.Payload); ok {
			payload = raw[off : off+len(f.Payload) : off+len(f.Payload)]
		} else {
			payload = append([]byte(nil), f.Payload...)
		}
	}
	var tenantID, tenantName, partnerID, payloadKey string
	if f.cisco.format == formatJSON {
		env := &f.cisco.env
		tenantID = viewIn(raw, line, env.SpacesTenantID)
		tenantName = viewIn(raw, line, env.SpacesTenantName)
		partnerID = viewIn(raw, line, env.PartnerTenantID)
		payloadKey = viewIn(raw, line, env.PayloadKey)
	}
	id, typ := viewIn(raw, line, f.ID), eventType(raw, line, f.Type)
	return &Event{
		raw: raw, id: id, typ: typ, ts: f.Timestamp,
		tenantID: tenantID, tenantName: tenantName, partnerID: partnerID, payloadKey: payloadKey,
		payload: payload, format: f.cisco.format,
	}
}

// eventType interns documented names and keeps unknown ones as views.
func eventType(raw, base, b []byte) EventType {
	if t, ok := internType(b); ok {
		return t
	}
	return EventType(viewIn(raw, base, b))
}

// eventExt holds what a binary transport adds to an event: its decoded form
// and a JSON rendering made on first use.
type eventExt struct {
	once        sync.Once
	record      any                                   // e.g. the decoded gRPC EventRecord
	render      func(e *Event) (line, payload []byte) // set by the transport
	line        []byte
	payloadJSON []byte
}

func (x *eventExt) do(e *Event) {
	x.once.Do(func() { x.line, x.payloadJSON = x.render(e) })
}

func (x *eventExt) json(e *Event) []byte {
	x.do(e)
	return x.line
}

func (x *eventExt) payload(e *Event) []byte {
	x.do(e)
	return x.payloadJSON
}
