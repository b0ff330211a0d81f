package firehosetest

import (
	"encoding/base64"
	"math"
	"strconv"
	"strings"
	"time"
)

// Payload keys and field names below are the lowerCamel JSON names of the fields of Cisco's v1.2.6
// proto (spec/cisco-proto-facts.md), in field-number order, each with its proto type: scalar and
// repeated fields are always present, sub-messages and oneof members only when set, enums are
// their names, integers (int64 too) plain numbers, floats and doubles numbers with a decimal point,
// bytes base64. So each line is what protojson reads into an EventRecord without losing a key, and
// what the client's gRPC rendering of that record gives back (same keys, same values).
//
// The first event of each type (the log's first events) fills every sub-message its payload can
// carry, so a short history shows every field of the proto.

type typeInfo struct {
	name   string // eventType
	key    string // payload key
	weight int    // per mille, after the first events
}

const (
	typeDeviceEntry = iota
	typeDeviceExit
	typeProfileUpdate
	typeLocationChange
	typeAppActivation
	typeAccountAdminActivation
	typeDLU
	typeTPPeopleCount
	typeAppDeActivation
	typeDevicePresence
	typeUserPresence
	typeIOTTelemetry
	typeIOTUserAction
	typeDeviceCount
	typeCameraCount
	typeRawCameraCount
	typeNetworkTelemetry
	typeLocationAnchorUpdate
	typeNetworkStatusUpdate
	numKnownTypes
	typeSpaceOccupancy = numKnownTypes // not in the EventType enum (WithUnknownTypes)
)

// typeTable is indexed by the type constants: the EventType enum's order, then SPACE_OCCUPANCY.
// APP_DE_ACTIVATION and ACCOUNT_ADMIN_ACTIVATION have no payload field of their own: they carry the
// deactivated app's appActivation and an accountAdminChange.
var typeTable = [...]typeInfo{
	typeDeviceEntry:            {"DEVICE_ENTRY", "deviceEntry", 30},
	typeDeviceExit:             {"DEVICE_EXIT", "deviceExit", 30},
	typeProfileUpdate:          {"PROFILE_UPDATE", "deviceProfileUpdate", 15},
	typeLocationChange:         {"LOCATION_CHANGE", "locationHierarchyChange", 10},
	typeAppActivation:          {"APP_ACTIVATION", "appActivation", 8},
	typeAccountAdminActivation: {"ACCOUNT_ADMIN_ACTIVATION", "accountAdminChange", 7},
	typeDLU:                    {"DEVICE_LOCATION_UPDATE", "deviceLocationUpdate", 700},
	typeTPPeopleCount:          {"TP_PEOPLE_COUNT_UPDATE", "tpPeopleCountUpdate", 15},
	typeAppDeActivation:        {"APP_DE_ACTIVATION", "appActivation", 5},
	typeDevicePresence:         {"DEVICE_PRESENCE", "devicePresence", 40},
	typeUserPresence:           {"USER_PRESENCE", "userPresence", 20},
	typeIOTTelemetry:           {"IOT_TELEMETRY", "iotTelemetry", 50},
	typeIOTUserAction:          {"IOT_USER_ACTION", "iotUserAction", 10},
	typeDeviceCount:            {"DEVICE_COUNT", "deviceCounts", 20},
	typeCameraCount:            {"CAMERA_COUNT", "cameraCounts", 10},
	typeRawCameraCount:         {"RAW_CAMERA_COUNT", "rawCameraCounts", 10},
	typeNetworkTelemetry:       {"NETWORK_TELEMETRY", "networkTelemetry", 5},
	typeLocationAnchorUpdate:   {"LOCATION_ANCHOR_UPDATE", "locationAnchorUpdate", 5},
	typeNetworkStatusUpdate:    {"NETWORK_STATUS_UPDATE", "networkStatusUpdate", 10},
	typeSpaceOccupancy:         {"SPACE_OCCUPANCY", "spaceOccupancy", 0},
}

// The world the events describe: a few tenants, each with a location tree and devices. It is built
// once per Log from the seed; the common sub-objects are pre-rendered.
type tenant struct {
	id, name, partner string
	env               []byte // `"spacesTenantId":…,"spacesTenantName":…,"partnerTenantId":…`
	tz                string // IANA name, for timeZone fields
	offset            int    // the zone's fixed UTC offset in seconds (no DST: a mock)
	group             string // IoT group name
	domain            string // e-mail domain of its admins
	connector         string // name of its Spaces connector
	city, state       string
	country           string
	lat, lon          float64
	lat7, lon7        int64 // lat, lon × 10⁷
	geo               bool  // false: latitude/longitude are the -999.0 "no geo" sentinel
	ssid              string
	floors            []*location
	buildings         []*location
	devices           []*device
	apps              []string
}

type location struct {
	id, name string
	types    []string
	parent   *location
	source   string
	floor    int
	aps      int
	mapID    string
	json     []byte // the whole Location object, parents included
}

type device struct {
	id, mac, ipv4   string
	ipv6            string // link-local, for about half the devices
	manufacturer    string
	os, osVersion   string
	typ             string
	model           string
	userID          string
	visit           string
	classification  string
	json            []byte // the Device object, profile fields empty
	profileFirst    string
	profileLast     string
	profileEmail    string
	profileMobile   string
	profileGender   string
	profilePostcode string
	rawUser         string // lower-case first name, a USER_PRESENCE rawUserId
}

var tenantNames = [...]struct{ name, partner, tz, city, state, country string }{
	{"Acme Retail", "Acme-Retail", "America/New_York", "New York", "NY", "United States"},
	{"Globex Campus", "Globex-Campus", "Europe/Amsterdam", "Amsterdam", "North Holland", "Netherlands"},
	{"Initech Offices", "Initech-Offices", "Asia/Singapore", "Singapore", "Singapore", "Singapore"},
}

var tenantOffsets = [...]int{-5 * 3600, 1 * 3600, 8 * 3600}

var tenantGeo = [...][2]float64{{40.7506, -73.9935}, {52.3438, 4.8884}, {1.2966, 103.8520}}

func (l *Log) buildWorld() {
	r := rng{s: l.key ^ 0x776f726c64}
	for t, tn := range tenantNames {
		te := &tenant{
			id:        "spaces-tenant-" + hex32(uint32(r.u64())),
			name:      tn.name,
			partner:   tn.partner,
			tz:        tn.tz,
			offset:    tenantOffsets[t],
			group:     "sensors-" + strings.ToLower(tn.city[:3]),
			domain:    strings.ToLower(tn.partner) + ".example.com",
			connector: "connector-" + strings.ToLower(tn.city[:3]),
			city:      tn.city, state: tn.state, country: tn.country,
			lat: tenantGeo[t][0], lon: tenantGeo[t][1],
			lat7: int64(math.Round(tenantGeo[t][0] * 1e7)), lon7: int64(math.Round(tenantGeo[t][1] * 1e7)),
			geo:  t != 0,
			ssid: []string{"Acme-Guest", "globex-corp", "INITECH"}[t],
		}
		var env jw
		env.str("spacesTenantId", te.id)
		env.str("spacesTenantName", te.name)
		env.str("partnerTenantId", te.partner)
		te.env = env.b
		// Locations: campus → buildings → floors (the campus is the root of the tree).
		campus := &location{id: locID(&r), name: te.city + " Campus", types: []string{"CAMPUS"}}
		for bi := range 2 {
			bld := &location{id: locID(&r), name: "Building " + string(rune('A'+bi)), types: []string{"NETWORK", "BUILDING"},
				parent: campus, source: strconv.FormatUint(r.u64()%1e13, 10)}
			for fi := range 3 {
				fl := &location{id: locID(&r), name: "Floor " + strconv.Itoa(fi+1), types: []string{"FLOOR"}, parent: bld,
					source: strconv.FormatUint(r.u64()%1e13, 10), floor: fi + 1, aps: 20 + r.intn(60)}
				if te.geo {
					fl.mapID = string(appendHex(appendHex(nil, r.u64(), 16), r.u64(), 16))
				}
				bld.aps += fl.aps
				te.floors = append(te.floors, fl)
			}
			campus.aps += bld.aps
			te.buildings = append(te.buildings, bld)
		}
		for _, loc := range append(append([]*location{campus}, te.buildings...), te.floors...) {
			loc.json = appendLocation(nil, loc)
		}
		// Devices.
		for range 96 {
			te.devices = append(te.devices, newDevice(&r, te))
		}
		te.apps = []string{"Occupancy Insights", "Wayfinding", "Asset Tracker"}
		l.tenants = append(l.tenants, te)
	}
}

func locID(r *rng) string { return "location-" + hex32(uint32(r.u64())) }

func hex32(x uint32) string { return strconv.FormatUint(uint64(x), 16) }

func appendLocation(b []byte, loc *location) []byte {
	w := jw{b: append(b, '{')}
	w.str("locationId", loc.id)
	w.str("name", loc.name)
	w.strs("inferredLocationTypes", loc.types...)
	if loc.parent != nil {
		w.raw("parent", appendLocation(nil, loc.parent))
	}
	w.str("sourceLocationId", loc.source)
	w.int("floorNumber", loc.floor)
	w.int("apCount", loc.aps)
	return append(w.b, '}')
}

var (
	firstNames = [...]string{"Ada", "Grace", "Alan", "Edsger", "Barbara", "Ken", "Radia", "Linus"}
	lastNames  = [...]string{"Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Thompson", "Perlman", "Torvalds"}
	osList     = [...][4]string{ // os, version, manufacturer, type
		{"Android", "14", "Samsung", "MOBILE"}, {"iOS", "17.4", "Apple", "MOBILE"}, {"Android", "", "", "NOT_AVAILABLE"},
		{"Windows", "11", "Intel", "LAPTOP"}, {"macOS", "14.4", "Apple", "LAPTOP"}, {"iPadOS", "17.3", "Apple", "TABLET"},
		{"", "", "", "NOT_AVAILABLE"}, {"Android", "13", "Google", "MOBILE"},
	}
	alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
)

func newDevice(r *rng, te *tenant) *device {
	var id [21]byte
	for i := range id {
		id[i] = alnum[r.intn(len(alnum))]
	}
	o := osList[r.intn(len(osList))]
	d := &device{
		id:           "device-" + string(id[:]),
		mac:          string(appendMAC(nil, r.u64())),
		ipv4:         "10." + strconv.Itoa(r.intn(256)) + "." + strconv.Itoa(r.intn(256)) + "." + strconv.Itoa(1+r.intn(254)),
		os:           o[0],
		osVersion:    o[1],
		manufacturer: o[2],
		typ:          o[3],
		visit:        "visit-" + strconv.FormatUint(r.u64()>>1, 10),
	}
	if m := d.mac; m[len(m)-1]%2 == 0 {
		d.ipv6 = "fe80::" + m[0:2] + m[3:5] + ":" + m[6:8] + m[9:11] + ":" + m[12:14] + m[15:17]
	}
	if r.chance(0.3) {
		d.userID = "user-" + hex32(uint32(r.u64()))
	}
	if r.chance(0.2) {
		d.classification = "EMPLOYEE"
	}
	if o[2] == "Apple" && r.chance(0.5) {
		d.model = "iPhone15,2"
	}
	fi, li := r.intn(len(firstNames)), r.intn(len(lastNames))
	d.profileFirst, d.profileLast = firstNames[fi], lastNames[li]
	d.profileEmail = strings.ToLower(firstNames[fi]+"."+lastNames[li]) + "@example.com"
	d.profileMobile = "+1555" + strconv.Itoa(1000000+r.intn(9000000))
	d.profileGender = []string{"GENDER_NOT_AVAILABLE", "MALE", "FEMALE", "OTHER"}[r.intn(4)]
	d.profilePostcode = strconv.Itoa(10000 + r.intn(90000))
	d.rawUser = strings.ToLower(d.profileFirst)
	d.json = appendDevice(nil, d, false, "")
	return d
}

// appendDevice renders a Device; profile fills in the fields a PROFILE_UPDATE carries. model
// overrides deviceModel when not empty (Oversized lines pad it).
func appendDevice(b []byte, d *device, profile bool, model string) []byte {
	w := jw{b: append(b, '{')}
	w.str("deviceId", d.id)
	w.str("userId", d.userID)
	if profile {
		w.strs("tags", "VIP")
		w.str("mobile", d.profileMobile)
		w.str("email", d.profileEmail)
		w.str("gender", d.profileGender)
		w.str("firstName", d.profileFirst)
		w.str("lastName", d.profileLast)
		w.str("postalCode", d.profilePostcode)
		w.strs("optIns", "EMAIL", "TERMS_AND_CONDITIONS")
	} else {
		w.strs("tags")
		w.str("mobile", "")
		w.str("email", "")
		w.str("gender", "GENDER_NOT_AVAILABLE")
		w.str("firstName", "")
		w.str("lastName", "")
		w.str("postalCode", "")
		w.strs("optIns", "TERMS_AND_CONDITIONS")
	}
	if profile {
		appendAttributes(&w, "attributes", "loyaltyTier", "GOLD")
	} else {
		w.strs("attributes")
	}
	w.str("macAddress", d.mac)
	w.str("manufacturer", d.manufacturer)
	w.str("os", d.os)
	w.str("osVersion", d.osVersion)
	w.str("type", d.typ)
	if profile {
		appendSocial(&w, d)
	} else {
		w.strs("socialNetworkInfo")
	}
	if model == "" {
		model = d.model
	}
	w.key("deviceModel") // our own models need no escaping; Oversized pads this one by megabytes
	w.b = append(w.b, '"')
	w.b = append(w.b, model...)
	w.b = append(w.b, '"')
	if profile {
		w.obj("dhcpProfileInfo")
		w.str("dcProfileName", d.os+" Device")
		w.str("dcDeviceClassTag", d.typ)
		w.str("dcCertaintyMetric", "30")
		w.str("dcProtocolMap", "DHCP")
		w.end()
	}
	return append(w.b, '}')
}

// appendAttributes writes a repeated Attribute with one attribute of one value.
func appendAttributes(w *jw, key, name, value string) {
	w.arr(key)
	w.elem()
	w.str("name", name)
	w.strs("values", value)
	w.end()
	w.endArr()
}

// appendSocial writes a socialNetworkInfo array of one SocialNetworkInfo, its network picked by the
// device id: a Facebook, Twitter or LinkedIn profile with every field.
func appendSocial(w *jw, d *device) {
	network := int(d.id[len(d.id)-1]) % 3
	handle := strings.ToLower(d.profileFirst + "." + d.profileLast)
	w.arr("socialNetworkInfo")
	w.elem()
	w.str("socialNetwork", [...]string{"FACEBOOK", "TWITTER", "LINKEDIN"}[network])
	w.str("socialHandle", handle)
	switch network {
	case 0:
		w.obj("facebook")
		w.str("id", "fb-"+d.id[7:15])
		w.str("firstName", d.profileFirst)
		w.str("lastName", d.profileLast)
		w.str("middleName", d.profileLast[:1]+".")
		w.str("name", d.profileFirst+" "+d.profileLast)
		w.str("shortName", d.profileFirst)
		w.str("nameFormat", "{first} {last}")
		w.str("picture", "https://example.com/p/"+handle+".jpg")
		w.str("email", d.profileEmail)
		appendAttributes(w, "attributes", "locale", "en_US")
		w.end()
	case 1:
		w.obj("twitter")
		w.str("id", "tw-"+d.id[7:15])
		w.str("name", d.profileFirst+" "+d.profileLast)
		w.str("screenName", handle)
		w.int("friendsCount", len(d.profileEmail)*7)
		w.int("followersCount", len(d.profileEmail)*13)
		w.str("profileImageUrl", "https://example.com/i/"+handle+".png")
		w.str("profileBannerUrl", "https://example.com/b/"+handle+".png")
		w.str("location", "Earth")
		w.int("statusesCount", len(d.profileMobile)*11)
		w.str("email", d.profileEmail)
		w.boolean("profileVerified", len(d.profileFirst)%2 == 0)
		w.str("utcOffset", "+00:00")
		w.str("timeZone", "UTC")
		w.boolean("geoEnabled", len(d.profileLast)%2 == 0)
		w.str("lang", "en")
		appendAttributes(w, "attributes", "verifiedType", "none")
		w.end()
	default:
		w.obj("linkedIn")
		w.str("id", "li-"+d.id[7:15])
		w.str("firstName", d.profileFirst)
		w.str("lastName", d.profileLast)
		w.str("profilePicture", "https://example.com/l/"+handle+".jpg")
		w.str("email", d.profileEmail)
		appendAttributes(w, "attributes", "industry", "Computing")
		w.end()
	}
	w.end()
	w.endArr()
}

// appendLine appends event m's JSON line (no newline).
func (l *Log) appendLine(b []byte, m *meta) []byte { return l.appendLineModel(b, m, "") }

// appendLineModel is appendLine with the deviceModel of a DEVICE_LOCATION_UPDATE overridden.
func (l *Log) appendLineModel(b []byte, m *meta, model string) []byte {
	te := l.tenants[m.tenant]
	b = append(b, `{"recordUid":"event-`...)
	b = strconv.AppendUint(b, uint64(m.uid), 16)
	b = append(b, `","recordTimestamp":`...)
	b = strconv.AppendInt(b, m.ts, 10)
	b = append(b, ',')
	b = append(b, te.env...)
	ti := &typeTable[m.typ]
	b = append(b, `,"eventType":"`...)
	b = append(b, ti.name...)
	b = append(b, `","`...)
	b = append(b, ti.key...)
	b = append(b, `":`...)
	r := rng{s: m.seed}
	switch m.typ {
	case typeDLU:
		b = appendDLU(b, m, te, &r, model)
	case typeProfileUpdate: // the payload is a Device
		b = appendDevice(b, te.devices[r.intn(len(te.devices))], true, "")
	default:
		w := jw{b: append(b, '{')}
		payload(&w, m, te, &r)
		b = append(w.b, '}')
	}
	return append(b, '}')
}

// appendDLU renders a deviceLocationUpdate payload: the hot path, written by hand.
func appendDLU(b []byte, m *meta, te *tenant, r *rng, model string) []byte {
	d := te.devices[r.intn(len(te.devices))]
	fl := te.floors[r.intn(len(te.floors))]
	b = append(b, `{"device":`...)
	if model != "" {
		b = appendDevice(b, d, false, model)
	} else {
		b = append(b, d.json...)
	}
	b = append(b, `,"location":`...)
	b = append(b, fl.json...)
	b = append(b, `,"ssid":"`...)
	b = append(b, te.ssid...)
	b = append(b, `","rawUserId":"`...)
	b = append(b, d.userID...)
	b = append(b, `","visitId":"`...)
	b = append(b, d.visit...)
	b = append(b, `","lastSeen":`...)
	b = strconv.AppendInt(b, (m.ts-int64(r.intn(120000)))/1000*1000, 10)
	b = append(b, `,"deviceClassification":"`...)
	b = append(b, d.classification...)
	b = append(b, `","mapId":"`...)
	b = append(b, fl.mapID...)
	// Fixed-point numbers, printed without strconv's float formatting (the hot path's main cost).
	b = append(b, `","xPos":`...)
	b = appendFixed(b, int64(r.intn(400000)), 3)
	b = append(b, `,"yPos":`...)
	b = appendFixed(b, int64(r.intn(250000)), 3)
	b = append(b, `,"confidenceFactor":`...)
	b = appendFixed(b, int64(8*(1+r.intn(64))), 0)
	if te.geo {
		b = append(b, `,"latitude":`...)
		b = appendFixed(b, te.lat7+int64(r.intn(10000)), 7)
		b = append(b, `,"longitude":`...)
		b = appendFixed(b, te.lon7+int64(r.intn(10000)), 7)
	} else {
		b = append(b, `,"latitude":-999.0,"longitude":-999.0`...)
	}
	b = append(b, `,"unc":`...)
	b = appendFixed(b, int64(r.intn(40)), 0)
	b = append(b, `,"maxDetectedRssi":`...)
	b = strconv.AppendInt(b, -40-int64(r.intn(55)), 10)
	b = append(b, `,"ipv4":"`...)
	b = append(b, d.ipv4...)
	b = append(b, `","ipv6":[`...)
	if d.ipv6 != "" {
		b = append(b, '"')
		b = append(b, d.ipv6...)
		b = append(b, '"')
	}
	b = append(b, "]}"...)
	return b
}

var (
	changeTypes        = [...]string{"ADD", "REMOVE", "MOVE", "UPDATE"}
	devicePresenceKind = [...]string{"DEVICE_ENTRY_EVENT", "DEVICE_IN_ACTIVE_EVENT", "DEVICE_ACTIVE_EVENT", "DEVICE_EXIT_EVENT", "DEVICE_SSID_CHANGE_EVENT", "DEVICE_RAW_USER_ID_CHANGE_EVENT"}
	userPresenceKind   = [...]string{"USER_ENTRY_EVENT", "USER_IN_ACTIVE_EVENT", "USER_ACTIVE_EVENT", "USER_EXIT_EVENT"}
	airQualityStatus   = [...]string{"GOOD", "FAIR", "POOR"}
	iotKinds           = [...]string{"IOT_BLE_DEVICE", "IOT_BLE_DEVICE", "IOT_RFID_TAG", "IOT_ZIGBEE_DEVICE", "IOT_WIRED_DEVICE", "IOT_TELE_PRESENCE_DEVICE"}
	iotMakers          = [...]string{"Kontakt.io", "Disruptive Technologies", "Cisco"}
	networkStatuses    = [...]string{"NDS_CONNECTED", "NDS_DISCONNECTED", "NDS_ACTIVE", "NDS_INACTIVE"}
)

// payload writes the members of every payload but deviceLocationUpdate and deviceProfileUpdate.
func payload(w *jw, m *meta, te *tenant, r *rng) {
	d := te.devices[r.intn(len(te.devices))]
	fl := te.floors[r.intn(len(te.floors))]
	ts := m.ts
	full := m.idx < numKnownTypes // the first event of its type: every sub-message
	switch m.typ {
	case typeDeviceEntry:
		entry := ts - int64(r.intn(5000))
		w.raw("device", d.json)
		w.raw("location", fl.json)
		w.str("visitId", d.visit)
		w.i64("entryTimestamp", entry)
		w.dateTime("entryDateTime", entry, te.offset)
		w.str("timeZone", te.tz)
		w.str("deviceClassification", d.classification)
		w.int("daysSinceLastVisit", r.intn(30))
	case typeDeviceExit:
		dur := 1 + r.intn(240)
		entry := ts - int64(dur)*60000
		w.raw("device", d.json)
		w.raw("location", fl.json)
		w.str("visitId", d.visit)
		w.int("visitDurationMinutes", dur)
		w.i64("entryTimestamp", entry)
		w.dateTime("entryDateTime", entry, te.offset)
		w.i64("exitTimestamp", ts)
		w.dateTime("exitDateTime", ts, te.offset)
		w.str("timeZone", te.tz)
		w.str("deviceClassification", d.classification)
		w.str("visitClassification", visitClass(dur))
	case typeLocationChange:
		w.str("changeType", changeTypes[r.intn(len(changeTypes))])
		w.raw("location", fl.json)
		w.obj("locationDetails")
		w.str("timeZone", te.tz)
		w.str("city", te.city)
		w.str("state", te.state)
		w.str("country", te.country)
		w.str("category", "Office")
		w.arr("metadata")
		w.elem()
		w.str("key", "costCenter")
		w.key("values")
		w.b = append(w.b, `["CC-`...)
		w.b = strconv.AppendInt(w.b, int64(100+r.intn(900)), 10)
		w.b = append(w.b, `"]`...)
		w.end()
		w.endArr()
		w.fixed("latitude", te.lat7, 7)
		w.fixed("longitude", te.lon7, 7)
		w.obj("mapDetails")
		w.str("mapId", fl.mapID)
		w.int("imageWidth", 2048)
		w.int("imageHeight", 1536)
		w.str("mimeType", "image/png")
		w.obj("dimension")
		w.fixed("length", 1200, 1)
		w.fixed("width", 805, 1)
		w.fixed("height", 35, 1)
		w.fixed("offsetX", 125, 1)
		w.fixed("offsetY", -75, 1)
		w.end()
		w.end()
		w.end()
	case typeAppActivation, typeAppDeActivation:
		app := te.apps[r.intn(len(te.apps))]
		w.str("spacesTenantName", te.name)
		w.str("spacesTenantId", te.id)
		w.str("partnerTenantId", te.partner)
		w.str("name", app)
		w.hexStr("referenceId", "activation-", uint32(r.u64()))
		w.key("instanceName")
		w.b = append(w.b, '"')
		w.b = append(w.b, app...)
		w.b = append(w.b, " ("...)
		w.b = append(w.b, te.city...)
		w.b = append(w.b, `)"`...)
		if r.chance(0.5) {
			w.strs("macFilters", d.mac)
		} else {
			w.strs("macFilters")
		}
		if r.chance(0.5) {
			w.strs("iotGroups", te.group)
		} else {
			w.strs("iotGroups")
		}
	case typeAccountAdminActivation:
		w.str("changeType", changeTypes[[...]int{0, 1, 3}[r.intn(3)]])
		w.key("loginEmail")
		w.b = append(w.b, `"admin`...)
		w.b = strconv.AppendInt(w.b, int64(r.intn(10)), 10)
		w.b = append(w.b, '@')
		w.b = append(w.b, te.domain...)
		w.b = append(w.b, '"')
	case typeTPPeopleCount:
		people := r.intn(12)
		w.hexStr("tpDeviceId", "tp-", uint32(r.u64()))
		w.raw("location", fl.json)
		w.boolean("presence", people > 0)
		w.int("peopleCount", people)
		w.int("standbyState", r.intn(2))
		w.int("ambientNoise", 20+r.intn(30))
		w.int("drynessScore", r.intn(100))
		w.int("activeCalls", r.intn(2))
		w.int("presentationState", r.intn(2))
		w.i64("timeStamp", ts)
		w.mac("macAddress", r.u64())
		w.fixed("airQualityIndex", int64(r.intn(500)), 2)
		w.fixed("temperatureInCelsius", int64(190+r.intn(60)), 1)
		w.int("humidityInPercentage", 30+r.intn(30))
		w.int("soundLevel", 25+r.intn(40))
		w.str("ambientLight", [...]string{"DARK", "DIM", "BRIGHT"}[r.intn(3)])
		w.int("reverberationTime", 200+r.intn(600))
		w.boolean("closeProximity", r.chance(0.5))
		w.str("airQualityStatus", airQualityStatus[r.intn(len(airQualityStatus))])
	case typeDevicePresence:
		k := r.intn(len(devicePresenceKind))
		dur := 1 + r.intn(240)
		entry := ts - int64(dur)*60000
		w.str("presenceEventType", devicePresenceKind[k])
		w.boolean("wasInActive", k == 2)
		w.raw("device", d.json)
		w.raw("location", fl.json)
		w.str("ssid", te.ssid)
		w.str("rawUserId", d.userID)
		w.str("visitId", d.visit)
		w.int("daysSinceLastVisit", r.intn(30))
		w.i64("entryTimestamp", entry)
		w.dateTime("entryDateTime", entry, te.offset)
		if k == 3 {
			w.i64("exitTimestamp", ts)
			w.dateTime("exitDateTime", ts, te.offset)
		} else {
			w.i64("exitTimestamp", 0)
			w.str("exitDateTime", "")
		}
		w.int("visitDurationMinutes", dur)
		w.str("timeZone", te.tz)
		w.str("deviceClassification", d.classification)
		w.str("visitClassification", visitClass(dur))
		w.int("activeDevicesCount", 1+r.intn(300))
		w.int("inActiveDevicesCount", r.intn(50))
	case typeUserPresence:
		k := r.intn(len(userPresenceKind))
		dur := 1 + r.intn(480)
		entry := ts - int64(dur)*60000
		w.str("presenceEventType", userPresenceKind[k])
		w.boolean("wasInActive", k == 2)
		w.obj("user")
		w.hexStr("userId", "user-", uint32(r.u64()))
		w.strs("deviceIds", d.id)
		if rich := full || r.chance(0.2); rich { // a user with a full profile
			w.strs("tags", "VIP")
			w.str("mobile", d.profileMobile)
			w.str("email", d.profileEmail)
			w.str("gender", d.profileGender)
			w.str("firstName", d.profileFirst)
			w.str("lastName", d.profileLast)
			w.str("postalCode", d.profilePostcode)
			appendAttributes(w, "attributes", "department", "Engineering")
			appendSocial(w, d)
		} else {
			w.strs("tags")
			w.str("mobile", "")
			w.str("email", d.profileEmail)
			w.str("gender", "GENDER_NOT_AVAILABLE")
			w.str("firstName", d.profileFirst)
			w.str("lastName", d.profileLast)
			w.str("postalCode", "")
			w.strs("attributes")
			w.strs("socialNetworkInfo")
		}
		w.end()
		w.raw("location", fl.json)
		w.str("rawUserId", d.rawUser)
		w.str("visitId", d.visit)
		w.i64("entryTimestamp", entry)
		w.dateTime("entryDateTime", entry, te.offset)
		if k == 3 {
			w.i64("exitTimestamp", ts)
			w.dateTime("exitDateTime", ts, te.offset)
		} else {
			w.i64("exitTimestamp", 0)
			w.str("exitDateTime", "")
		}
		w.int("visitDurationMinutes", dur)
		w.str("timeZone", te.tz)
		for _, key := range [...]string{"activeUsersCount", "inActiveUsersCount"} {
			with, without := r.intn(200), r.intn(100)
			w.obj(key)
			w.int("usersWithUserId", with)
			w.int("usersWithoutUserId", without)
			w.int("totalUsers", with+without)
			w.end()
		}
		w.str("connection", [...]string{"CONN_WIRELESS", "CONN_WIRED"}[r.intn(2)])
	case typeIOTTelemetry:
		iotTelemetry(w, m, te, fl, r, full)
	case typeIOTUserAction:
		iotDeviceInfo(w, te, r)
		iotPosition(w, "detectedPosition", te, fl, ts, r)
		iotPosition(w, "placedPosition", te, fl, ts, r)
		w.raw("location", fl.json)
		w.str("actionType", [...]string{"IOT_ACTION_DOUBLE_TAP", "IOT_ACTION_BUTTON_CLICK"}[r.intn(2)])
		w.int("actionCount", 1+r.intn(5))
		w.i64("actionTimestamp", ts-int64(r.intn(1000)))
	case typeDeviceCount:
		assoc, probing := 5+r.intn(300), r.intn(500)
		wireless, wired := r.intn(200), r.intn(40)
		w.raw("location", fl.json)
		w.int("associatedCount", assoc)
		w.int("estimatedProbingCount", probing)
		w.fixed("probingRandomizedPercentage", int64(r.intn(1000)), 1)
		w.int("associatedDelta", r.intn(21)-10)
		w.int("probingDelta", r.intn(41)-20)
		w.fixed("estimatedDensity", int64(r.intn(10000)), 3)
		w.fixed("estimatedCapacityPercentage", int64(r.intn(1000)), 1)
		w.int("userCount", wireless+wired)
		w.int("wirelessUserCount", wireless)
		w.int("wiredUserCount", wired)
		w.int("rfidTagCount", r.intn(10))
		w.int("bleTagCount", r.intn(30))
	case typeCameraCount:
		w.raw("location", fl.json)
		w.int("count", r.intn(40))
		w.int("countDelta", r.intn(7)-3)
	case typeRawCameraCount:
		w.raw("location", fl.json)
		w.key("cameraId")
		w.b = append(w.b, `"Q2XX-`...)
		w.b = appendHexUpper(w.b, r.u64(), 4)
		w.b = append(w.b, '-')
		w.b = appendHexUpper(w.b, r.u64(), 4)
		w.b = append(w.b, '"')
		w.intStr("cameraZoneId", "", int64(r.u64()%1e15))
		w.int("count", r.intn(25))
	case typeNetworkTelemetry:
		bands := [...]string{"2.4GHz", "5GHz", "6GHz"}
		w.obj("networkHealth")
		w.arr("networkAvailability")
		for _, band := range bands[:2] {
			tests := 50 + r.intn(50)
			ok := tests - r.intn(5)
			dns := 20 + r.intn(20)
			dnsOK := dns - r.intn(3)
			w.elem()
			w.int("numOfTests", tests)
			w.int("numOfSuccess", ok)
			w.fixed("successPercentage", int64(ok)*10000/int64(tests), 2)
			w.int("numOfDnsLookup", dns)
			w.int("numOfDnsLookupSuccess", dnsOK)
			w.fixed("dnsLookupSuccessPercentage", int64(dnsOK)*10000/int64(dns), 2)
			w.str("band", band)
			w.end()
		}
		w.endArr()
		w.arr("apTelemetries")
		ranges := [...][2]int{{0, 40}, {10, 50}, {5, 90}, {-90, -40}}
		for i, typ := range [...]string{"CLIENTS_PER_AP", "SNR", "CHANNEL_UTILIZATION", "RSSI"} {
			lo, hi := ranges[i][0], ranges[i][1]
			a, b := lo+r.intn(hi-lo), lo+r.intn(hi-lo)
			if a > b {
				a, b = b, a
			}
			w.elem()
			w.str("apTelemetryType", typ)
			w.fixed("average", int64(a+b)*5, 1)
			w.int("min", a)
			w.int("max", b)
			w.end()
		}
		w.endArr()
		w.end()
		w.arr("networkPerformance")
		for _, band := range bands[:1+r.intn(3)] {
			w.elem()
			w.fixed("avgUploadBandwidthMbps", int64(r.intn(100000)), 2)
			w.fixed("avgDownloadBandwidthMbps", int64(r.intn(500000)), 2)
			w.fixed("avgPacketLossPercentage", int64(r.intn(500)), 2)
			w.int("avgRttMs", 5+r.intn(80))
			w.int("avgDnsLookupTimeMs", 2+r.intn(40))
			w.str("band", band)
			w.fixed("jitter", int64(r.intn(3000)), 2)
			w.fixed("mos", int64(300+r.intn(150)), 2)
			w.end()
		}
		w.endArr()
		w.raw("location", te.buildings[r.intn(len(te.buildings))].json)
	case typeLocationAnchorUpdate:
		w.str("changeType", [...]string{"ADD_UPDATE", "DELETE"}[r.intn(2)])
		w.raw("location", fl.json)
		w.obj("locationAnchorInfo")
		w.intStr("identifier", "", int64(1000+r.intn(9000)))
		w.uuid("uuid", r)
		w.int("major", r.intn(65536))
		w.int("minor", r.intn(65536))
		w.int("txPower", -r.intn(20))
		w.int("advTxPower", -59-r.intn(10))
		w.int("frequency", 2402+2*r.intn(40))
		for _, key := range [...]string{"xPos", "yPos", "zPos"} {
			w.key(key)
			w.b = append(w.b, '"')
			w.b = appendFixed(w.b, int64(r.intn(4000)), 1)
			w.b = append(w.b, '"')
		}
		w.fixed("latitude", te.lat7+int64(r.intn(10000)), 7)
		w.fixed("longitude", te.lon7+int64(r.intn(10000)), 7)
		w.str("mapId", fl.mapID)
		w.end()
	case typeNetworkStatusUpdate:
		connector := r.chance(0.5)
		if connector {
			w.str("deviceType", "NDT_CONNECTOR")
		} else {
			w.str("deviceType", "NDT_CONTROLLER")
		}
		w.str("status", networkStatuses[r.intn(len(networkStatuses))])
		w.i64("lastHeard", ts-int64(r.intn(60000)))
		ip := func(k string) {
			w.key(k)
			w.b = append(w.b, `"172.16.`...)
			w.b = strconv.AppendInt(w.b, int64(r.intn(256)), 10)
			w.b = append(w.b, '.')
			w.b = strconv.AppendInt(w.b, int64(1+r.intn(254)), 10)
			w.b = append(w.b, '"')
		}
		if connector {
			w.obj("connectorInfo")
			w.hexStr("id", "", uint32(r.u64()))
			w.str("name", te.connector)
			ip("ipAddress")
			w.str("ovaVersion", "3.1.0")
			w.str("dockerVersion", "2.19.1")
			w.end()
		} else {
			w.obj("controllerInfo")
			w.hexStr("id", "", uint32(r.u64()))
			w.intStr("name", "wlc-", int64(1+r.intn(9)))
			ip("ipAddress")
			w.str("version", "17.12.2")
			w.hexStr("connectorId", "", uint32(r.u64()))
			w.str("connectorName", te.connector)
			w.str("type", "CATALYST_9800")
			w.end()
		}
	case typeSpaceOccupancy:
		people := r.intn(10)
		win := ts - ts%900000
		w.raw("location", fl.json)
		w.obj("space")
		w.hexStr("id", "space-", uint32(r.u64()))
		w.intStr("name", "Room ", int64(100+r.intn(300)))
		w.str("floorId", fl.id)
		w.str("type", "MEETING_ROOM")
		w.int("capacity", 4+2*r.intn(6))
		w.str("occupancyType", "PEOPLE_COUNT")
		w.end()
		w.int("peopleCount", people)
		w.boolean("peoplePresence", people > 0)
		w.str("bookingStatus", [...]string{"BOOKED", "NOT_BOOKED"}[r.intn(2)])
		w.int("peakPeopleCount", people+r.intn(3))
		w.i64("windowStartTimestamp", win)
		w.dateTime("windowStartDateTime", win, te.offset)
		w.str("timeZone", te.tz)
	}
}

// appendInjected appends an injected line (not part of the log): its uid is random, its timestamp
// the one given (the session passes the last served event's).
func (l *Log) appendInjected(b []byte, in Inject, r *rng, now time.Time) []byte {
	m := meta{
		uid:    uint32(r.u64()),
		ts:     now.UnixMilli(),
		typ:    typeDLU,
		tenant: uint8(r.intn(len(l.tenants))),
		seed:   r.u64(),
	}
	switch in.Kind {
	case Malformed:
		b = append(b, `{"recordUid":"event-`...)
		b = strconv.AppendUint(b, uint64(m.uid), 16)
		return append(b, `","recordTimestamp":#!garbage!#,"eventType":"DEVICE_LOCATION_UPDATE",{{`...)
	case UnknownType:
		m.typ = typeSpaceOccupancy
	case Oversized:
		size := in.Size
		if size <= 0 {
			size = DefaultOversize
		}
		n := len(b)
		b = l.appendLineModel(b, &m, "x")
		pad := size - (len(b) - n) + 1
		if pad <= 1 {
			return b
		}
		return l.appendLineModel(b[:n], &m, strings.Repeat("x", pad))
	}
	return l.appendLine(b, &m)
}

func visitClass(minutes int) string {
	switch {
	case minutes < 5:
		return "PASSERBY"
	case minutes < 60:
		return "VISITOR"
	}
	return "DWELL"
}

// iotDeviceInfo writes deviceInfo and returns the device type.
func iotDeviceInfo(w *jw, te *tenant, r *rng) string {
	kind := iotKinds[r.intn(len(iotKinds))]
	x := r.u64()
	w.obj("deviceInfo")
	w.str("deviceType", kind)
	w.mac("deviceId", x)
	w.mac("deviceMacAddress", x)
	w.strs("group", te.group)
	w.key("deviceName")
	w.b = append(w.b, `"Sensor `...)
	w.b = appendHexUpper(w.b, x>>32&0xffff, 4)
	w.b = append(w.b, '"')
	w.key("firmwareVersion")
	w.b = append(w.b, `"1.`...)
	w.b = strconv.AppendInt(w.b, int64(r.intn(10)), 10)
	w.b = append(w.b, '.')
	w.b = strconv.AppendInt(w.b, int64(r.intn(20)), 10)
	w.b = append(w.b, '"')
	w.key("rawDeviceId")
	w.b = append(w.b, '"')
	w.b = appendHex(w.b, x&0xffffffffffff, 12)
	w.b = append(w.b, '"')
	w.str("manufacturer", iotMakers[r.intn(len(iotMakers))])
	w.intStr("companyId", "", int64(r.intn(4096)))
	if kind == "IOT_BLE_DEVICE" { // a BLE tag advertises a service and carries a label
		w.str("serviceUuid", "0000feaa-0000-1000-8000-00805f9b34fb")
		w.key("label")
		w.b = append(w.b, `"Asset `...)
		w.b = appendHexUpper(w.b, x>>16&0xffff, 4)
		w.b = append(w.b, '"')
	} else {
		w.str("serviceUuid", "")
		w.str("label", "")
	}
	w.end()
	return kind
}

func iotPosition(w *jw, key string, te *tenant, fl *location, ts int64, r *rng) {
	w.obj(key)
	w.fixed("xPos", int64(r.intn(400000)), 3)
	w.fixed("yPos", int64(r.intn(250000)), 3)
	w.fixed("latitude", te.lat7+int64(r.intn(10000)), 7)
	w.fixed("longitude", te.lon7+int64(r.intn(10000)), 7)
	w.fixed("confidenceFactor", int64(8*(1+r.intn(16))), 0)
	w.str("mapId", fl.mapID)
	w.str("locationId", fl.id)
	w.i64("lastLocatedTime", ts-int64(r.intn(10000)))
	w.end()
}

// iotTelemetry writes an iotTelemetry payload; full: every sub-message, whatever the device.
func iotTelemetry(w *jw, m *meta, te *tenant, fl *location, r *rng, full bool) {
	ts := m.ts
	kind := iotDeviceInfo(w, te, r)
	ble := kind == "IOT_BLE_DEVICE"
	// has reports whether an optional sub-message is present (always when full).
	has := func(p float64) bool { return full || r.chance(p) }
	iotPosition(w, "detectedPosition", te, fl, ts, r)
	if has(0.3) {
		iotPosition(w, "placedPosition", te, fl, ts, r)
	}
	w.raw("location", fl.json)
	if ble || has(0.5) {
		t := int64(180 + r.intn(100))
		w.obj("temperature")
		w.fixed("temperatureInCelsius", t, 1)
		w.fixed("rawTemperature", t*10, 0)
		w.end()
	}
	if full || ble && r.chance(0.5) {
		w.obj("accelerometer")
		w.fixed("x", int64(r.intn(200)-100), 2)
		w.fixed("y", int64(r.intn(200)-100), 2)
		w.fixed("z", int64(r.intn(200)-100), 2)
		w.i64("lastMovementTimestamp", ts-int64(r.intn(3600000)))
		w.int("counter", r.intn(1000))
		w.end()
	}
	if has(0.3) {
		w.obj("illuminance")
		w.fixed("value", int64(r.intn(8000)), 1)
		w.str("unit", "LUX")
		w.end()
	}
	w.i64("deviceRtcTime", ts/1000)
	if ble || has(0.5) {
		w.obj("battery")
		if r.chance(0.3) {
			w.fixed("value", 2800+int64(r.intn(500)), 0)
			w.str("unit", "MILLI_VOLTS")
		} else {
			w.fixed("value", int64(r.intn(101)), 0)
			w.str("unit", "PERCENTAGE")
		}
		w.i64("lastRetrieved", ts-int64(r.intn(600000)))
		w.end()
	}
	if has(0.2) {
		w.obj("lastUserAction")
		w.str("type", "IOT_ACTION_BUTTON_CLICK")
		w.i64("timestamp", ts-int64(r.intn(600000)))
		w.end()
	}
	if full || ble && r.chance(0.5) {
		w.obj("iBeacon")
		w.mac("beaconMacAddress", r.u64())
		w.uuid("uuid", r)
		w.int("major", r.intn(65536))
		w.int("minor", r.intn(65536))
		w.int("advertizedTxPower", -59-r.intn(10))
		w.end()
	}
	if full || ble { // a BLE tag sends Eddystone frames, and iBeacon ones half the time
		w.obj("eddyStone")
		w.mac("beaconMacAddress", r.u64())
		switch r.intn(3) { // the frame: one of three
		case 0:
			w.key("uid")
			w.b = append(w.b, '"')
			w.b = appendHex(w.b, r.u64(), 16)
			w.b = appendHex(w.b, r.u64(), 16)
			w.b = append(w.b, '"')
		case 1:
			w.key("namespace")
			w.b = append(w.b, '"')
			w.b = appendHex(w.b, r.u64(), 16)
			w.b = appendHex(w.b, r.u64(), 4)
			w.b = append(w.b, '"')
		default:
			w.hexStr("url", "https://example.com/t/", uint32(r.u64()))
		}
		w.end()
	}
	w.int("rawHeader", r.intn(256))
	var raw [12]byte
	x, y := r.u64(), r.u64()
	for i := range 8 {
		raw[i] = byte(x >> (8 * i))
	}
	for i := range 4 {
		raw[8+i] = byte(y >> (8 * i))
	}
	w.key("rawPayload")
	w.b = append(w.b, '"')
	w.b = base64.StdEncoding.AppendEncode(w.b, raw[:])
	w.b = append(w.b, '"')
	w.int("sequenceNum", r.intn(65536))
	if has(0.2) {
		w.obj("pirTrigger")
		w.i64("timestamp", ts-int64(r.intn(60000)))
		w.end()
	}
	if has(0.2) {
		w.obj("airPressure")
		w.fixed("pressure", 10000+int64(r.intn(300)), 1)
		w.end()
	}
	if has(0.3) {
		w.obj("vendorInfo")
		w.int("manufacturerId", r.intn(4096))
		w.end()
	}
	if full || kind == "IOT_RFID_TAG" && r.chance(0.5) {
		ccxData(w, ts, r)
	}
	if full || kind == "IOT_TELE_PRESENCE_DEVICE" {
		people := r.intn(12)
		w.obj("tpData")
		w.boolean("presence", people > 0)
		w.int("peopleCount", people)
		w.int("standbyState", r.intn(2))
		w.int("ambientNoise", 20+r.intn(30))
		w.int("drynessScore", r.intn(100))
		w.int("activeCalls", r.intn(2))
		w.int("presentationState", r.intn(2))
		w.i64("timeStamp", ts-int64(r.intn(1000)))
		w.fixed("airQualityIndex", int64(r.intn(500)), 2)
		w.fixed("temperatureInCelsius", int64(190+r.intn(60)), 1)
		w.int("humidityInPercentage", 30+r.intn(30))
		w.int("soundLevel", 25+r.intn(40))
		w.str("ambientLight", [...]string{"DARK", "DIM", "BRIGHT"}[r.intn(3)])
		w.int("reverberationTime", 200+r.intn(600))
		w.boolean("closeProximity", r.chance(0.5))
		w.str("airQualityStatus", airQualityStatus[r.intn(len(airQualityStatus))])
		w.end()
	}
	if has(0.4) {
		h := 30 + r.intn(40)
		w.obj("humidity")
		w.int("humidityInPercentage", h)
		w.int("rawHumidity", h*100)
		w.end()
	}
	if has(0.3) {
		w.obj("airQuality")
		w.fixed("airQualityIndex", int64(r.intn(500)), 2)
		w.int("airQualityPpb", r.intn(2000))
		w.str("airQualityStatus", airQualityStatus[r.intn(len(airQualityStatus))])
		w.end()
	}
	if has(0.3) {
		w.obj("carbonEmissions")
		w.int("co2Ppm", 400+r.intn(1200))
		w.end()
	}
	if has(0.2) {
		w.obj("ambientLight")
		w.int("valueLx", r.intn(1000))
		w.end()
	}
	if has(0.2) {
		w.obj("voltage")
		w.fixed("valueMv", 2800+int64(r.intn(500)), 0)
		w.end()
	}
	if has(0.1) {
		w.obj("illumSolarCell")
		w.int("valueLx", r.intn(1000))
		w.end()
	}
	if has(0.1) {
		w.obj("illumSensor")
		w.int("valueLx", r.intn(1000))
		w.end()
	}
	if has(0.2) {
		w.obj("occupancyStatus")
		w.str("status", [...]string{"OCCUPIED", "NOT_OCCUPIED"}[r.intn(2)])
		w.end()
	}
	if has(0.1) {
		w.obj("magnetContact")
		w.str("contactType", [...]string{"OPEN", "CLOSED"}[r.intn(2)])
		w.end()
	}
	w.int("maxDetectedRssi", -40-r.intn(55))
	if has(0.1) {
		w.obj("pushButton")
		w.str("action", [...]string{"PBA_PRESS", "PBA_RELEASE"}[r.intn(2)])
		w.strs("actionButtonLabels", "Help", "Clean")
		w.end()
	}
}

// ccxData writes the ccxData of a CCX (Cisco Compatible Extensions) tag: a few telemetries, the
// battery, vendor data and the last beacon.
func ccxData(w *jw, ts int64, r *rng) {
	seq := r.intn(60000)
	w.obj("ccxData")
	w.arr("telemetries")
	for i, t := range [...]struct{ typ, unit string }{{"CCX_TELEMETRY_TEMPERATURE", "CELSIUS"}, {"CCX_TELEMETRY_MOTION", ""}, {"CCX_TELEMETRY_PRESSURE", "HPA"}} {
		if i > 0 && r.chance(0.4) {
			continue
		}
		w.elem()
		w.str("type", t.typ)
		w.str("unit", t.unit)
		w.key("value")
		w.b = append(w.b, '"')
		w.b = strconv.AppendInt(w.b, int64(r.intn(1000)), 10)
		w.b = append(w.b, '"')
		w.i64("lastReceivedTime", ts-int64(r.intn(60000)))
		w.int("lastReceivedSeqNum", seq-r.intn(10))
		w.end()
	}
	w.endArr()
	w.obj("battery")
	w.int("tolerance", 5)
	w.int("percentRemaining", r.intn(101))
	w.int("daysRemaining", r.intn(900))
	w.i64("age", int64(r.intn(1000))*86400)
	w.i64("lastReceivedTime", ts-int64(r.intn(600000)))
	w.int("lastReceivedSeqNum", seq-r.intn(100))
	w.end()
	w.obj("vendor")
	w.int("id", 0x10+r.intn(16))
	w.int("elementId", r.intn(8))
	var data [6]byte
	x := r.u64()
	for i := range data {
		data[i] = byte(x >> (8 * i))
	}
	w.key("data")
	w.b = append(w.b, '"')
	w.b = base64.StdEncoding.AppendEncode(w.b, data[:])
	w.b = append(w.b, '"')
	w.i64("lastReceivedTime", ts-int64(r.intn(600000)))
	w.int("lastReceivedSeqNum", seq-r.intn(100))
	w.end()
	w.i64("lastBeaconTime", ts-int64(r.intn(5000)))
	w.int("lastBeaconSequenceNumber", seq)
	w.end()
}
