package firehosetest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"google.golang.org/protobuf/encoding/protojson"

	"github.com/firehose-go/firehose/proto/firehosev1"
)

// schema is the JSON rendering of the messages of Cisco's v1.2.6 proto (spec/cisco-proto-facts.md),
// written from the facts independently of the generator (a message used in several places under
// different parents has one entry). Each message lists its fields in field-number
// order: "name" a string; "name=k" a scalar of kind k (s string, i integer, f float, b bool,
// e enum name, n numeric string); "name[]=k" a repeated scalar; "name:Msg" a sub-message (absent
// when unset); "name:[Msg]" a repeated message. A trailing "?" marks a scalar that may be absent
// (a oneof member). Scalars and repeated fields must be present: the wire prints defaults.
var schema = map[string]string{
	"EventRecord": `recordUid recordTimestamp=i spacesTenantId spacesTenantName partnerTenantId eventType=e
		deviceEntry:DeviceEntry deviceExit:DeviceExit deviceProfileUpdate:Device
		locationHierarchyChange:LocationChange deviceLocationUpdate:DeviceLocation appActivation:AppActivation
		accountAdminChange:AccountAdminChange tpPeopleCountUpdate:TPPeopleCountUpdate devicePresence:DevicePresence
		userPresence:UserPresence iotTelemetry:IOTTelemetry iotUserAction:IOTUserAction deviceCounts:DeviceCounts
		cameraCounts:CameraCounts rawCameraCounts:RawCameraCounts networkTelemetry:NetworkTelemetry
		locationAnchorUpdate:LocationAnchorUpdate networkStatusUpdate:NetworkStatusUpdate spaceOccupancy:SpaceOccupancy`,
	"DeviceEntry": `device:Device location:Location visitId entryTimestamp=i entryDateTime timeZone deviceClassification
		daysSinceLastVisit=i`,
	"DeviceExit": `device:Device location:Location visitId visitDurationMinutes=i entryTimestamp=i entryDateTime
		exitTimestamp=i exitDateTime timeZone deviceClassification visitClassification`,
	"DeviceLocation": `device:Device location:Location ssid rawUserId visitId lastSeen=i deviceClassification mapId
		xPos=f yPos=f confidenceFactor=f latitude=f longitude=f unc=f maxDetectedRssi=i ipv4 ipv6[]=s`,
	"Device": `deviceId userId tags[]=s mobile email gender=e firstName lastName postalCode optIns[]=e
		attributes:[Attribute] macAddress manufacturer os osVersion type=e socialNetworkInfo:[SocialNetworkInfo] deviceModel
		dhcpProfileInfo:DHCPProfileInfo`,
	"Attribute":         `name values[]=s`,
	"SocialNetworkInfo": `socialNetwork=e socialHandle facebook:Facebook twitter:Twitter linkedIn:LinkedIn`,
	"Facebook":          `id firstName lastName middleName name shortName nameFormat picture email attributes:[Attribute]`,
	"Twitter": `id name screenName friendsCount=i followersCount=i profileImageUrl profileBannerUrl location
		statusesCount=i email profileVerified=b utcOffset timeZone geoEnabled=b lang attributes:[Attribute]`,
	"LinkedIn":        `id firstName lastName profilePicture email attributes:[Attribute]`,
	"DHCPProfileInfo": `dcProfileName dcDeviceClassTag dcCertaintyMetric dcProtocolMap`,
	"Location":        `locationId name inferredLocationTypes[]=s parent:Location sourceLocationId floorNumber=i apCount=i`,
	"DevicePresence": `presenceEventType=e wasInActive=b device:Device location:Location ssid rawUserId visitId
		daysSinceLastVisit=i entryTimestamp=i entryDateTime exitTimestamp=i exitDateTime visitDurationMinutes=i
		timeZone deviceClassification visitClassification activeDevicesCount=i inActiveDevicesCount=i`,
	"UserPresence": `presenceEventType=e wasInActive=b user:User location:Location rawUserId visitId entryTimestamp=i
		entryDateTime exitTimestamp=i exitDateTime visitDurationMinutes=i timeZone activeUsersCount:UserCount
		inActiveUsersCount:UserCount connection=e`,
	"UserCount": `usersWithUserId=i usersWithoutUserId=i totalUsers=i`,
	"User": `userId deviceIds[]=s tags[]=s mobile email gender=e firstName lastName postalCode attributes:[Attribute]
		socialNetworkInfo:[SocialNetworkInfo]`,
	"AppActivation":      `spacesTenantName spacesTenantId partnerTenantId name referenceId instanceName macFilters[]=s iotGroups[]=s`,
	"AccountAdminChange": `changeType=e loginEmail`,
	"LocationChange":     `changeType=e location:Location locationDetails:LocationDetails`,
	"LocationDetails": `timeZone city state country category metadata:[Metadata] latitude=f longitude=f
		mapDetails:MapDetails`,
	"Metadata":   `key values[]=s`,
	"MapDetails": `mapId imageWidth=i imageHeight=i mimeType dimension:Dimension`,
	"Dimension":  `length=f width=f height=f offsetX=f offsetY=f`,
	"TPPeopleCountUpdate": `tpDeviceId location:Location presence=b peopleCount=i standbyState=i ambientNoise=i
		drynessScore=i activeCalls=i presentationState=i timeStamp=i macAddress airQualityIndex=f
		temperatureInCelsius=f humidityInPercentage=i soundLevel=i ambientLight reverberationTime=i
		closeProximity=b airQualityStatus`,
	"IOTTelemetry": `deviceInfo:DeviceInfo detectedPosition:DevicePosition placedPosition:DevicePosition
		location:Location temperature:Temperature accelerometer:Accelerometer illuminance:Illuminance
		deviceRtcTime=i battery:Battery lastUserAction:LastUserAction iBeacon:IBeacon eddyStone:Eddystone
		rawHeader=i rawPayload sequenceNum=i pirTrigger:PIRTrigger airPressure:AirPressure vendorInfo:VendorInfo
		ccxData:CCXData tpData:TPData humidity:Humidity airQuality:AirQuality carbonEmissions:CarbonEmissions
		ambientLight:AmbientLight voltage:Voltage illumSolarCell:Illum illumSensor:Illum
		occupancyStatus:OccupancyStatus magnetContact:MagnetContact maxDetectedRssi=i pushButton:PushButton`,
	"DeviceInfo": `deviceType=e deviceId deviceMacAddress group[]=s deviceName firmwareVersion rawDeviceId manufacturer
		companyId serviceUuid label`,
	"DevicePosition":  `xPos=f yPos=f latitude=f longitude=f confidenceFactor=f mapId locationId lastLocatedTime=i`,
	"Temperature":     `temperatureInCelsius=f rawTemperature=f`,
	"Accelerometer":   `x=f y=f z=f lastMovementTimestamp=i counter=i`,
	"Illuminance":     `value=f unit=e`,
	"Battery":         `value=f unit=e lastRetrieved=i`,
	"LastUserAction":  `type=e timestamp=i`,
	"IBeacon":         `beaconMacAddress uuid major=i minor=i advertizedTxPower=i`,
	"Eddystone":       `beaconMacAddress uid? namespace? url?`,
	"PIRTrigger":      `timestamp=i`,
	"AirPressure":     `pressure=f`,
	"VendorInfo":      `manufacturerId=i`,
	"Humidity":        `humidityInPercentage=i rawHumidity=i`,
	"AirQuality":      `airQualityIndex=f airQualityPpb=i airQualityStatus`,
	"CarbonEmissions": `co2Ppm=i`,
	"AmbientLight":    `valueLx=i`,
	"Voltage":         `valueMv=f`,
	"Illum":           `valueLx=i`,
	"OccupancyStatus": `status=e`,
	"MagnetContact":   `contactType=e`,
	"PushButton":      `action=e actionButtonLabels[]=s`,
	"CCXData": `telemetries:[CCXTelemetry] battery:CCXBattery vendor:CCXVendor lastBeaconTime=i
		lastBeaconSequenceNumber=i`,
	"CCXTelemetry": `type=e unit value lastReceivedTime=i lastReceivedSeqNum=i`,
	"CCXBattery":   `tolerance=i percentRemaining=i daysRemaining=i age=i lastReceivedTime=i lastReceivedSeqNum=i`,
	"CCXVendor":    `id=i elementId=i data lastReceivedTime=i lastReceivedSeqNum=i`,
	"TPData": `presence=b peopleCount=i standbyState=i ambientNoise=i drynessScore=i activeCalls=i
		presentationState=i timeStamp=i airQualityIndex=f temperatureInCelsius=f humidityInPercentage=i soundLevel=i
		ambientLight reverberationTime=i closeProximity=b airQualityStatus`,
	"IOTUserAction": `deviceInfo:DeviceInfo detectedPosition:DevicePosition placedPosition:DevicePosition
		location:Location actionType=e actionCount=i actionTimestamp=i`,
	"DeviceCounts": `location:Location associatedCount=i estimatedProbingCount=i probingRandomizedPercentage=f
		associatedDelta=i probingDelta=i estimatedDensity=f estimatedCapacityPercentage=f userCount=i
		wirelessUserCount=i wiredUserCount=i rfidTagCount=i bleTagCount=i`,
	"CameraCounts":     `location:Location count=i countDelta=i`,
	"RawCameraCounts":  `location:Location cameraId cameraZoneId count=i`,
	"NetworkTelemetry": `networkHealth:NetworkHealth networkPerformance:[NetworkPerformance] location:Location`,
	"NetworkHealth":    `networkAvailability:[NetworkAvailability] apTelemetries:[APTelemetry]`,
	"NetworkAvailability": `numOfTests=i numOfSuccess=i successPercentage=f numOfDnsLookup=i numOfDnsLookupSuccess=i
		dnsLookupSuccessPercentage=f band`,
	"APTelemetry": `apTelemetryType=e average=f min=i max=i`,
	"NetworkPerformance": `avgUploadBandwidthMbps=f avgDownloadBandwidthMbps=f avgPacketLossPercentage=f avgRttMs=i
		avgDnsLookupTimeMs=i band jitter=f mos=f`,
	"LocationAnchorUpdate": `changeType=e location:Location locationAnchorInfo:LocationAnchorInfo`,
	"LocationAnchorInfo": `identifier uuid major=i minor=i txPower=i advTxPower=i frequency=i xPos yPos zPos
		latitude=f longitude=f mapId`,
	"NetworkStatusUpdate": `deviceType=e status=e lastHeard=i connectorInfo:ConnectorInfo controllerInfo:ControllerInfo`,
	"ConnectorInfo":       `id name ipAddress ovaVersion dockerVersion`,
	"ControllerInfo":      `id name ipAddress version connectorId connectorName type`,
	// SPACE_OCCUPANCY is not in the proto; the shape is the one third-party code reads.
	"SpaceOccupancy": `location:Location space:Space peopleCount=i peoplePresence=b bookingStatus peakPeopleCount=i
		windowStartTimestamp=i windowStartDateTime timeZone`,
	"Space": `id name floorId type capacity=i occupancyType`,
}

// payloadKey is §2.4's oneof JSON name per event type (APP_DE_ACTIVATION and ACCOUNT_ADMIN_ACTIVATION
// have none of their own).
var payloadKey = map[string]string{
	"DEVICE_ENTRY": "deviceEntry", "DEVICE_EXIT": "deviceExit", "PROFILE_UPDATE": "deviceProfileUpdate",
	"LOCATION_CHANGE": "locationHierarchyChange", "DEVICE_LOCATION_UPDATE": "deviceLocationUpdate",
	"APP_ACTIVATION": "appActivation", "APP_DE_ACTIVATION": "appActivation",
	"ACCOUNT_ADMIN_ACTIVATION": "accountAdminChange", "TP_PEOPLE_COUNT_UPDATE": "tpPeopleCountUpdate",
	"DEVICE_PRESENCE": "devicePresence", "USER_PRESENCE": "userPresence", "IOT_TELEMETRY": "iotTelemetry",
	"IOT_USER_ACTION": "iotUserAction", "DEVICE_COUNT": "deviceCounts", "CAMERA_COUNT": "cameraCounts",
	"RAW_CAMERA_COUNT": "rawCameraCounts", "NETWORK_TELEMETRY": "networkTelemetry",
	"LOCATION_ANCHOR_UPDATE": "locationAnchorUpdate", "NETWORK_STATUS_UPDATE": "networkStatusUpdate",
	"SPACE_OCCUPANCY": "spaceOccupancy",
}

type schemaField struct {
	name, kind, msg    string
	repeated, optional bool
}

func parseSchema(t *testing.T) map[string][]schemaField {
	t.Helper()
	out := map[string][]schemaField{}
	for msg, spec := range schema {
		fields := []schemaField{}
		for _, tok := range strings.Fields(spec) {
			f := schemaField{kind: "s"}
			if strings.HasSuffix(tok, "?") {
				f.optional, tok = true, strings.TrimSuffix(tok, "?")
			}
			switch {
			case strings.Contains(tok, ":"):
				name, m, _ := strings.Cut(tok, ":")
				f.name, f.kind, f.optional = name, "", true
				if strings.HasPrefix(m, "[") {
					f.repeated, f.optional, m = true, false, strings.Trim(m, "[]")
				}
				f.msg = m
				if _, ok := schema[m]; !ok {
					t.Fatalf("schema: %s.%s: unknown message %s", msg, name, m)
				}
			default:
				name, kind, ok := strings.Cut(tok, "=")
				if ok {
					f.kind = kind
				}
				if strings.HasSuffix(name, "[]") {
					f.repeated, name = true, strings.TrimSuffix(name, "[]")
				}
				f.name = name
			}
			fields = append(fields, f)
		}
		out[msg] = fields
	}
	return out
}

// jnode is a JSON value with its object keys in wire order and numbers as written.
type jnode struct {
	kind byte // 'o', 'a', 's', 'n', 'b', 'z'
	keys []string
	kids []*jnode
	text string
}

func parseOrdered(line []byte) (*jnode, error) {
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.UseNumber()
	n, err := parseNode(dec)
	if err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, fmt.Errorf("trailing data")
	}
	return n, nil
}

func parseNode(dec *json.Decoder) (*jnode, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch v := tok.(type) {
	case json.Delim:
		n := &jnode{kind: 'a'}
		if v == '{' {
			n.kind = 'o'
		}
		for dec.More() {
			if n.kind == 'o' {
				k, err := dec.Token()
				if err != nil {
					return nil, err
				}
				if slices.Contains(n.keys, k.(string)) {
					return nil, fmt.Errorf("duplicate key %q", k)
				}
				n.keys = append(n.keys, k.(string))
			}
			kid, err := parseNode(dec)
			if err != nil {
				return nil, err
			}
			n.kids = append(n.kids, kid)
		}
		if _, err := dec.Token(); err != nil { // the closing delimiter
			return nil, err
		}
		return n, nil
	case string:
		return &jnode{kind: 's', text: v}, nil
	case json.Number:
		return &jnode{kind: 'n', text: string(v)}, nil
	case bool:
		return &jnode{kind: 'b'}, nil
	default:
		return &jnode{kind: 'z'}, nil
	}
}

var enumName = regexp.MustCompile(`^[A-Z][A-Z0-9_]*$`)

func checkScalar(n *jnode, kind string) error {
	switch kind {
	case "s":
		if n.kind != 's' {
			return fmt.Errorf("want a string")
		}
	case "e":
		if n.kind != 's' || !enumName.MatchString(n.text) {
			return fmt.Errorf("want an enum name, got %q", n.text)
		}
	case "n":
		if _, err := strconv.ParseInt(n.text, 10, 64); n.kind != 's' || err != nil {
			return fmt.Errorf("want a numeric string, got %q", n.text)
		}
	case "b":
		if n.kind != 'b' {
			return fmt.Errorf("want a bool")
		}
	case "i":
		if _, err := strconv.ParseInt(n.text, 10, 64); n.kind != 'n' || err != nil {
			return fmt.Errorf("want an integer number, got %q", n.text)
		}
	case "f":
		if n.kind != 'n' || !strings.Contains(n.text, ".") {
			return fmt.Errorf("want a number with a decimal point, got %q", n.text)
		}
	}
	return nil
}

// checkMessage checks n against message msg of the schema, recording each field met in seen
// ("Msg.key").
func checkMessage(sch map[string][]schemaField, msg string, n *jnode, path string, seen map[string]bool) error {
	if n.kind != 'o' {
		return fmt.Errorf("%s: want an object", path)
	}
	fields := sch[msg]
	at := -1
	present := map[string]bool{}
	for i, k := range n.keys {
		j := slices.IndexFunc(fields, func(f schemaField) bool { return f.name == k })
		if j < 0 {
			return fmt.Errorf("%s: %s has no field %q", path, msg, k)
		}
		if j < at {
			return fmt.Errorf("%s: field %q out of order", path, k)
		}
		at = j
		present[k] = true
		seen[msg+"."+k] = true
		f, v, p := fields[j], n.kids[i], path+"."+k
		switch {
		case f.repeated:
			if v.kind != 'a' {
				return fmt.Errorf("%s: want an array", p)
			}
			for ei, e := range v.kids {
				var err error
				if f.msg != "" {
					err = checkMessage(sch, f.msg, e, fmt.Sprintf("%s[%d]", p, ei), seen)
				} else if err = checkScalar(e, f.kind); err != nil {
					err = fmt.Errorf("%s[%d]: %w", p, ei, err)
				}
				if err != nil {
					return err
				}
			}
		case f.msg != "":
			if err := checkMessage(sch, f.msg, v, p, seen); err != nil {
				return err
			}
		default:
			if err := checkScalar(v, f.kind); err != nil {
				return fmt.Errorf("%s: %w", p, err)
			}
		}
	}
	for _, f := range fields {
		if !f.optional && !present[f.name] {
			return fmt.Errorf("%s: %s lacks %q (defaults must be present)", path, msg, f.name)
		}
	}
	return nil
}

var uidPattern = regexp.MustCompile(`^event-(0|[1-9a-f][0-9a-f]{0,7})$`)

var envelope = []string{"recordUid", "recordTimestamp", "spacesTenantId", "spacesTenantName", "partnerTenantId", "eventType"}

func TestLogLines(t *testing.T) {
	t.Parallel()
	sch := parseSchema(t)
	const n = 1500
	s := newServer(t, WithHistory(n, 10*time.Minute), WithUnknownTypes(true))
	evs := s.Log().Events(1, NumPartitions)
	if len(evs) != n || s.Log().Len() != n {
		t.Fatalf("got %d events, Len %d, want %d", len(evs), s.Log().Len(), n)
	}
	types := map[string]int{}
	seen := map[string]bool{}
	pairs := map[string]bool{}
	uids := map[string]int{}
	dluBytes := 0
	for i, e := range evs {
		// The shape of a DEVICE_LOCATION_UPDATE never varies: parse one in ten against the schema
		// (the race detector makes the token decoder slow), every other event.
		if e.Type != "DEVICE_LOCATION_UPDATE" || i%10 == 0 {
			root, err := parseOrdered(e.Line)
			if err != nil {
				t.Fatalf("event %d does not parse: %v\n%s", i, err, e.Line)
			}
			if len(root.keys) != len(envelope)+1 || !slices.Equal(root.keys[:len(envelope)], envelope) {
				t.Fatalf("event %d: keys %v, want the envelope in order then one payload key", i, root.keys)
			}
			if want := payloadKey[e.Type]; root.keys[len(envelope)] != want {
				t.Fatalf("event %d (%s): payload key %q, want %q", i, e.Type, root.keys[len(envelope)], want)
			}
			if err := checkMessage(sch, "EventRecord", root, e.Type, seen); err != nil {
				t.Fatalf("event %d: %v\n%s", i, err, e.Line)
			}
			// Strict protojson: every key is a field of the proto, every enum name one of its values,
			// every value of the field's type.
			if e.Type != "SPACE_OCCUPANCY" {
				var rec firehosev1.EventRecord
				if err := protojson.Unmarshal(e.Line, &rec); err != nil {
					t.Fatalf("event %d (%s) is not an EventRecord of the proto: %v\n%s", i, e.Type, err, e.Line)
				}
				if rec.GetEventType().String() != e.Type {
					t.Fatalf("event %d: eventType decodes as %v", i, rec.GetEventType())
				}
			}
			if root.kids[0].text != e.UID || root.kids[1].text != strconv.FormatInt(e.Timestamp, 10) || root.kids[5].text != e.Type {
				t.Fatalf("event %d: line does not match Event %+v", i, e)
			}
		} else {
			prefix := `{"recordUid":"` + e.UID + `","recordTimestamp":` + strconv.FormatInt(e.Timestamp, 10) + `,`
			if !bytes.HasPrefix(e.Line, []byte(prefix)) || !bytes.Contains(e.Line, []byte(`"eventType":"DEVICE_LOCATION_UPDATE","deviceLocationUpdate":{`)) || !json.Valid(e.Line) {
				t.Fatalf("event %d: %s", i, e.Line)
			}
		}
		if !uidPattern.MatchString(e.UID) {
			t.Fatalf("event %d: recordUid %q", i, e.UID)
		}
		if e.Partition != Partition(e.UID) || e.Partition < 1 || e.Partition > 12 {
			t.Fatalf("event %d: partition %d, Partition(uid) %d", i, e.Partition, Partition(e.UID))
		}
		if e.Index != i {
			t.Fatalf("event %d has Index %d", i, e.Index)
		}
		if lag := e.Emit.UnixMilli() - e.Timestamp; lag < 0 || lag > 2000 {
			t.Fatalf("event %d: recordTimestamp %d ms before its emission, want 0–2000", i, lag)
		}
		if i > 0 && e.Emit.Before(evs[i-1].Emit) {
			t.Fatalf("event %d emitted before event %d", i, i-1)
		}
		if !e.Emit.After(time.Now().Add(-10*time.Minute-time.Second)) || e.Emit.After(time.Now()) {
			t.Fatalf("event %d: emission time %v outside the history span", i, e.Emit)
		}
		pair := e.UID + "/" + strconv.FormatInt(e.Timestamp, 10)
		if pairs[pair] {
			t.Fatalf("event %d: (uid, timestamp) %s repeats", i, pair)
		}
		pairs[pair] = true
		uids[e.UID]++
		types[e.Type]++
		if e.Type == "DEVICE_LOCATION_UPDATE" {
			dluBytes += len(e.Line)
		}
		if i < len(payloadKey) && e.Type != typeTable[i].name {
			t.Fatalf("event %d is %s, want %s (the first events cover every type)", i, e.Type, typeTable[i].name)
		}
	}
	for typ := range payloadKey {
		if types[typ] == 0 {
			t.Errorf("no %s event in the log", typ)
		}
	}
	// Every field of every message is filled somewhere in the log.
	for msg, fields := range sch {
		for _, f := range fields {
			if !seen[msg+"."+f.name] {
				t.Errorf("no event of the log has %s.%s", msg, f.name)
			}
		}
	}
	if share := float64(types["DEVICE_LOCATION_UPDATE"]) / n; share < 0.6 || share > 0.75 {
		t.Errorf("DEVICE_LOCATION_UPDATE is %.0f%% of the log, want about 70%%", share*100)
	}
	if avg := dluBytes / types["DEVICE_LOCATION_UPDATE"]; avg < 1200 || avg > 1700 {
		t.Errorf("DEVICE_LOCATION_UPDATE lines average %d bytes, want about 1.4 KB", avg)
	}
	repeated := 0
	for _, c := range uids {
		if c > 1 {
			repeated++
		}
	}
	if repeated == 0 || repeated > n/50 {
		t.Errorf("%d uids repeat, want a few (about 1 in 128)", repeated)
	}
	t.Logf("types: %v; repeated uids: %d", types, repeated)
}

func TestLogWithoutUnknownTypes(t *testing.T) {
	t.Parallel()
	s := newServer(t, WithHistory(3000, time.Minute))
	for _, e := range s.Log().Events(1, NumPartitions) {
		if _, ok := payloadKey[e.Type]; !ok || e.Type == "SPACE_OCCUPANCY" {
			t.Fatalf("event %d has type %s", e.Index, e.Type)
		}
	}
}

func TestLogDeterminism(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		mk := func(seed int64) *Server {
			return NewServer(WithInMemory(), WithSeed(seed), WithHistory(300, time.Minute), WithRate(50), WithUnknownTypes(true))
		}
		a, b, c := mk(7), mk(7), mk(8)
		defer a.Close()
		defer b.Close()
		defer c.Close()
		time.Sleep(3 * time.Second) // fake time: 150 live events
		ea, eb, ec := a.Log().Events(1, 12), b.Log().Events(1, 12), c.Log().Events(1, 12)
		if len(ea) != 450 || a.Log().Len() != 450 {
			t.Fatalf("got %d events (Len %d), want 300 + 3 s × 50/s", len(ea), a.Log().Len())
		}
		sameLines(t, linesOf(ea), linesOf(eb))
		diff := 0
		for i := range ea {
			if !bytes.Equal(ea[i].Line, ec[i].Line) {
				diff++
			}
		}
		if diff < len(ea)*9/10 {
			t.Fatalf("seeds 7 and 8 share %d of %d lines", len(ea)-diff, len(ea))
		}
		// Live emission times: event 300+k at start + (k+1)/rate.
		start := time.Now().Add(-3 * time.Second)
		for k, e := range ea[300:] {
			if want := start.Add(time.Duration(k+1) * 20 * time.Millisecond); !e.Emit.Equal(want) {
				t.Fatalf("live event %d emitted at %v, want %v", k, e.Emit, want)
			}
		}
		if !ea[299].Emit.Equal(start) || !ea[0].Emit.Equal(start.Add(-time.Minute+200*time.Millisecond)) {
			t.Fatalf("history emitted from %v to %v, want the minute ending at the start", ea[0].Emit, ea[299].Emit)
		}
	})
}

func TestPartition(t *testing.T) {
	t.Parallel()
	for _, uid := range []string{"", "event-0", "event-57de904", "event-f3e19217", "anything"} {
		h := fnv.New32a()
		h.Write([]byte(uid))
		if got, want := Partition(uid), int(h.Sum32()%12)+1; got != want {
			t.Errorf("Partition(%q) = %d, want %d", uid, got, want)
		}
	}
	counts := make([]int, 13)
	for x := uint32(0); x < 120000; x += 7 {
		uid := "event-" + strconv.FormatUint(uint64(x*2654435761), 16)
		p := Partition(uid)
		if int(partitionOf(x*2654435761)) != p {
			t.Fatalf("partitionOf and Partition disagree on %s", uid)
		}
		counts[p]++
	}
	for p := 1; p <= 12; p++ {
		if counts[p] < 1200 || counts[p] > 2200 {
			t.Errorf("partition %d got %d of about 17143 uids", p, counts[p])
		}
	}
}

func TestAppendHelpers(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		v    int64
		dec  int
		want string
	}{{3280, 1, "328.0"}, {-9990, 1, "-999.0"}, {372795, 3, "372.795"}, {0, 3, "0.0"}, {5, 3, "0.005"}, {120, 2, "1.2"}, {7, 0, "7.0"}} {
		if got := string(appendFixed(nil, c.v, c.dec)); got != c.want {
			t.Errorf("appendFixed(%d, %d) = %q, want %q", c.v, c.dec, got, c.want)
		}
	}
	ms := time.Date(2024, 5, 1, 8, 20, 30, 123e6, time.UTC).UnixMilli()
	for _, c := range []struct {
		off  int
		want string
	}{{0, "2024-05-01T08:20:30.123Z"}, {7200, "2024-05-01T10:20:30.123+02:00"}, {-5 * 3600, "2024-05-01T03:20:30.123-05:00"}} {
		if got := string(appendDateTime(nil, ms, c.off)); got != c.want {
			t.Errorf("appendDateTime(%d) = %q, want %q", c.off, got, c.want)
		}
	}
	if got := string(appendMAC(nil, 0x0102030405060708)); got != "03:04:05:06:07:08" {
		t.Errorf("appendMAC = %q", got)
	}
	if got := string(appendStr(nil, "a\"b\\c\n")); got != `"a\"b\\c\u000a"` {
		t.Errorf("appendStr = %s", got)
	}
}

func TestLogPermIsBijective(t *testing.T) {
	t.Parallel()
	l := newLog(&config{seed: 3}, time.Now())
	seen := make(map[uint32]bool, 1<<16)
	for i := uint32(0); i < 1<<16; i++ {
		u := l.perm(i)
		if seen[u] {
			t.Fatalf("perm repeats %x at %d", u, i)
		}
		seen[u] = true
	}
}
