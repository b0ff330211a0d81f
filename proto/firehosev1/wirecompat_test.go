package firehosev1_test

import (
	"bytes"
	"math"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/firehose-go/firehose/proto/firehosev1"
)

// enc hand-encodes protobuf wire bytes from field numbers and wire types as
// the spec lists them, independently of our .proto. A wrong field number or
// scalar type in the .proto makes the bytes land in unknown fields or in the
// wrong field, which these tests catch.
type enc []byte

func (b enc) str(n protowire.Number, s string) enc {
	b = protowire.AppendTag(b, n, protowire.BytesType)
	return protowire.AppendString(b, s)
}

func (b enc) raw(n protowire.Number, p []byte) enc {
	b = protowire.AppendTag(b, n, protowire.BytesType)
	return protowire.AppendBytes(b, p)
}

func (b enc) msg(n protowire.Number, m enc) enc { return b.raw(n, m) }

// varint encodes int32, int64, bool and enum values (negative int32 values
// take ten bytes, as on the wire).
func (b enc) varint(n protowire.Number, v int64) enc {
	b = protowire.AppendTag(b, n, protowire.VarintType)
	return protowire.AppendVarint(b, uint64(v))
}

func (b enc) f32(n protowire.Number, v float32) enc {
	b = protowire.AppendTag(b, n, protowire.Fixed32Type)
	return protowire.AppendFixed32(b, math.Float32bits(v))
}

func (b enc) f64(n protowire.Number, v float64) enc {
	b = protowire.AppendTag(b, n, protowire.Fixed64Type)
	return protowire.AppendFixed64(b, math.Float64bits(v))
}

// packed encodes a packed repeated varint field (proto3's default).
func (b enc) packed(n protowire.Number, vs ...int64) enc {
	var p []byte
	for _, v := range vs {
		p = protowire.AppendVarint(p, uint64(v))
	}
	return b.raw(n, p)
}

// assertAllKnown fails if any (nested) message kept unknown bytes.
func assertAllKnown(t *testing.T, m protoreflect.Message, path string) {
	t.Helper()
	if u := m.GetUnknown(); len(u) > 0 {
		t.Errorf("%s: %d bytes landed in unknown fields: %x", path, len(u), []byte(u))
	}
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		if fd.Message() == nil || fd.IsMap() {
			return true
		}
		p := path + "." + string(fd.Name())
		if fd.IsList() {
			for i := range v.List().Len() {
				assertAllKnown(t, v.List().Get(i).Message(), p)
			}
			return true
		}
		assertAllKnown(t, v.Message(), p)
		return true
	})
}

func envelope(uid string, ts int64, typ firehosev1.EventType) enc {
	b := enc{}.str(1, uid).varint(2, ts).str(3, "spaces-tenant-1").str(4, "Simulation").str(5, "partner-1")
	if typ != 0 { // proto3 leaves zero values (DEVICE_ENTRY) off the wire
		b = b.varint(6, int64(typ))
	}
	return b
}

func TestWireCompat(t *testing.T) {
	location := enc{}.str(1, "location-1").str(2, "Floor 1").str(3, "FLOOR").
		msg(4, enc{}.str(1, "location-root").str(3, "ROOT").varint(7, 3760)).
		str(5, "733542549725119049").varint(6, 3).varint(7, 76)
	deviceWith := func(social enc) enc {
		d := enc{}.str(1, "device-1").str(3, "tag").varint(6, 2).packed(10, 2).
			msg(11, enc{}.str(1, "attr").str(2, "v1").str(2, "v2")).
			str(12, "00:39:a7:8f:4a:00").str(14, "Android").varint(16, 3)
		if social != nil {
			d = d.msg(17, social)
		}
		return d.str(18, "Pixel").msg(19, enc{}.str(1, "profile").str(4, "proto-map"))
	}
	device := deviceWith(nil)
	deviceInfo := enc{}.varint(1, 5).str(2, "dev-9").str(3, "29:2f:2b:c5:fa:48").str(4, "g1").str(11, "label")
	position := enc{}.f32(1, 26.6).f32(2, 62.3).f64(3, 50.04987).f64(4, 14.43498).f64(5, 3.13).str(6, "map-1").varint(8, 1750351812000)

	cases := []struct {
		name  string
		wire  enc
		new   func() proto.Message
		check func(t *testing.T, m proto.Message)
	}{
		{
			name: "DEVICE_LOCATION_UPDATE",
			wire: envelope("event-f3e19217", 1641977166586, firehosev1.EventType_DEVICE_LOCATION_UPDATE).
				msg(12, enc{}.msg(1, device).msg(2, location).str(3, "ssid").str(5, "visit-1").
					varint(6, 1641975908000).str(8, "map-1").f32(9, 372.79483).f32(10, 210.72083).
					f64(11, 328.0).f64(12, -999.0).f64(13, -999.0).f32(14, 1.5).varint(15, -89).
					str(16, "192.168.36.244").str(17, "fe80::1").str(17, "fe80::2")),
			new: func() proto.Message { return new(firehosev1.EventRecord) },
			check: func(t *testing.T, m proto.Message) {
				r := m.(*firehosev1.EventRecord)
				if r.GetRecordUid() != "event-f3e19217" || r.GetRecordTimestamp() != 1641977166586 ||
					r.GetSpacesTenantName() != "Simulation" || r.GetPartnerTenantId() != "partner-1" ||
					r.GetEventType() != firehosev1.EventType_DEVICE_LOCATION_UPDATE {
					t.Errorf("envelope: %v", r)
				}
				dl := r.GetDeviceLocationUpdate()
				d := dl.GetDevice()
				if d.GetGender() != firehosev1.Gender_FEMALE || d.GetType() != firehosev1.DeviceType_LAPTOP ||
					d.GetOptIns()[0] != firehosev1.Device_TERMS_AND_CONDITIONS || d.GetMacAddress() != "00:39:a7:8f:4a:00" ||
					d.GetAttributes()[0].GetValues()[1] != "v2" || d.GetDeviceModel() != "Pixel" ||
					d.GetDhcpProfileInfo().GetDcProtocolMap() != "proto-map" {
					t.Errorf("device: %v", d)
				}
				l := dl.GetLocation()
				if l.GetFloorNumber() != 3 || l.GetApCount() != 76 || l.GetParent().GetApCount() != 3760 ||
					l.GetSourceLocationId() != "733542549725119049" {
					t.Errorf("location: %v", l)
				}
				if dl.GetLastSeen() != 1641975908000 || dl.GetXPos() != 372.79483 || dl.GetYPos() != 210.72083 ||
					dl.GetConfidenceFactor() != 328 || dl.GetLatitude() != -999 || dl.GetUnc() != 1.5 ||
					dl.GetMaxDetectedRssi() != -89 || dl.GetIpv6()[1] != "fe80::2" || dl.GetMapId() != "map-1" {
					t.Errorf("location update: %v", dl)
				}
			},
		},
		{
			name: "IOT_TELEMETRY",
			wire: envelope("event-6c654b0b", 1750351812337, firehosev1.EventType_IOT_TELEMETRY).
				msg(23, enc{}.msg(1, deviceInfo).msg(2, position).msg(4, location).
					msg(5, enc{}.f64(1, 21.5).f64(2, 2150)).
					msg(6, enc{}.f64(3, -9.81).varint(4, 1750351800000).varint(5, 7)).
					msg(7, enc{}.f64(1, 300).varint(2, 1)).
					varint(8, 1750351812000).
					msg(10, enc{}.f32(1, 87.5).varint(2, 1).varint(15, 1750351000000)).
					msg(11, enc{}.varint(1, 2).varint(2, 1750351811000)).
					msg(12, enc{}.str(2, "f7826da6-4fa2-4e98-8024-bc5b71e0893e").varint(3, 100).varint(4, 7).varint(5, -59)).
					msg(13, enc{}.str(1, "aa:bb").str(4, "https://example.invalid")).
					varint(14, 3).raw(15, []byte{0xde, 0xad, 0xbe, 0xef}).varint(16, 42).
					msg(17, enc{}.varint(1, 1750351810000)).
					msg(18, enc{}.f32(1, 1013.25)).
					msg(19, enc{}.varint(1, 76)).
					msg(20, enc{}.msg(1, enc{}.varint(1, 11).str(3, "42").varint(4, 1750351000001).varint(5, 17)).
						msg(2, enc{}.varint(1, 5).varint(2, 80).varint(3, 200).varint(4, 3600).varint(5, 1750351000003).varint(6, 18)).
						msg(3, enc{}.varint(1, 9).varint(2, 3).raw(3, []byte{1, 2}).varint(4, 1750351000004).varint(5, 19)).
						varint(4, 1750351000002).varint(5, 20)).
					msg(21, enc{}.varint(1, 1).varint(2, 12).varint(4, 35).f32(10, 22.5).varint(12, 40).str(13, "BRIGHT").str(16, "GOOD")).
					msg(22, enc{}.varint(1, 55).varint(2, 5500)).
					msg(23, enc{}.f32(1, 1.5).varint(2, 120).str(20, "GOOD")).
					msg(24, enc{}.varint(1, 612)).
					msg(25, enc{}.varint(1, 350)).
					msg(26, enc{}.f32(1, 3300)).
					msg(27, enc{}.varint(1, 10)).
					msg(28, enc{}.varint(1, 11)).
					msg(29, enc{}.varint(1, 1)).
					msg(30, enc{}.varint(1, 1)).
					varint(31, -70).
					msg(32, enc{}.varint(1, 1).str(2, "A").str(2, "B"))),
			new: func() proto.Message { return new(firehosev1.EventRecord) },
			check: func(t *testing.T, m proto.Message) {
				iot := m.(*firehosev1.EventRecord).GetIotTelemetry()
				if iot.GetDeviceInfo().GetDeviceType() != firehosev1.IOTDeviceType_IOT_TELE_PRESENCE_DEVICE ||
					iot.GetDeviceInfo().GetDeviceMacAddress() != "29:2f:2b:c5:fa:48" || iot.GetDeviceInfo().GetLabel() != "label" {
					t.Errorf("deviceInfo: %v", iot.GetDeviceInfo())
				}
				p := iot.GetDetectedPosition()
				if p.GetXPos() != 26.6 || p.GetYPos() != 62.3 || p.GetLongitude() != 14.43498 ||
					p.GetConfidenceFactor() != 3.13 || p.GetMapId() != "map-1" || p.GetLastLocatedTime() != 1750351812000 {
					t.Errorf("detectedPosition: %v", p)
				}
				if iot.GetTemperature().GetRawTemperature() != 2150 || iot.GetAccelerometer().GetZ() != -9.81 ||
					iot.GetAccelerometer().GetCounter() != 7 || iot.GetIlluminance().GetUnit() != firehosev1.IOTTelemetry_Illuminance_LUX ||
					iot.GetDeviceRtcTime() != 1750351812000 {
					t.Errorf("sensors 5-8: %v", iot)
				}
				if b := iot.GetBattery(); b.GetValue() != 87.5 || b.GetUnit() != firehosev1.IOTTelemetry_Battery_MILLI_VOLTS || b.GetLastRetrieved() != 1750351000000 {
					t.Errorf("battery: %v", b)
				}
				if iot.GetLastUserAction().GetType() != firehosev1.IOTActionType_IOT_ACTION_BUTTON_CLICK ||
					iot.GetIBeacon().GetUuid() != "f7826da6-4fa2-4e98-8024-bc5b71e0893e" || iot.GetIBeacon().GetMajor() != 100 ||
					iot.GetIBeacon().GetMinor() != 7 || iot.GetIBeacon().GetAdvertizedTxPower() != -59 ||
					iot.GetEddyStone().GetUrl() != "https://example.invalid" {
					t.Errorf("action/beacons: %v", iot)
				}
				if iot.GetRawHeader() != 3 || !bytes.Equal(iot.GetRawPayload(), []byte{0xde, 0xad, 0xbe, 0xef}) ||
					iot.GetSequenceNum() != 42 || iot.GetPirTrigger().GetTimestamp() != 1750351810000 ||
					iot.GetAirPressure().GetPressure() != 1013.25 || iot.GetVendorInfo().GetManufacturerId() != 76 {
					t.Errorf("fields 14-19: %v", iot)
				}
				ccx := iot.GetCcxData()
				if ccx.GetTelemetries()[0].GetType() != firehosev1.CCXData_Telemetry_CCX_TELEMETRY_UNKNOWN ||
					ccx.GetTelemetries()[0].GetValue() != "42" || ccx.GetTelemetries()[0].GetLastReceivedSeqNum() != 17 ||
					ccx.GetLastBeaconTime() != 1750351000002 || ccx.GetLastBeaconSequenceNumber() != 20 ||
					ccx.GetBattery().GetPercentRemaining() != 80 || ccx.GetBattery().GetAge() != 3600 ||
					ccx.GetBattery().GetLastReceivedSeqNum() != 18 || ccx.GetVendor().GetElementId() != 3 ||
					!bytes.Equal(ccx.GetVendor().GetData(), []byte{1, 2}) || ccx.GetVendor().GetLastReceivedSeqNum() != 19 {
					t.Errorf("ccx: %v", ccx)
				}
				if tp := iot.GetTpData(); !tp.GetPresence() || tp.GetPeopleCount() != 12 || tp.GetAmbientNoise() != 35 ||
					tp.GetTemperatureInCelsius() != 22.5 || tp.GetSoundLevel() != 40 || tp.GetAmbientLight() != "BRIGHT" ||
					tp.GetAirQualityStatus() != "GOOD" {
					t.Errorf("tpData: %v", tp)
				}
				if iot.GetHumidity().GetRawHumidity() != 5500 || iot.GetAirQuality().GetAirQualityStatus() != "GOOD" ||
					iot.GetAirQuality().GetAirQualityPpb() != 120 || iot.GetCarbonEmissions().GetCo2Ppm() != 612 ||
					iot.GetAmbientLight().GetValueLx() != 350 || iot.GetVoltage().GetValueMv() != 3300 ||
					iot.GetIllumSolarCell().GetValueLx() != 10 || iot.GetIllumSensor().GetValueLx() != 11 {
					t.Errorf("fields 22-28: %v", iot)
				}
				if iot.GetOccupancyStatus().GetStatus() != firehosev1.IOTTelemetry_OccupancyStatus_NOT_OCCUPIED ||
					iot.GetMagnetContact().GetContactType() != firehosev1.IOTTelemetry_MagnetContact_CLOSED ||
					iot.GetMaxDetectedRssi() != -70 || iot.GetPushButton().GetAction() != firehosev1.IOTTelemetry_PBA_RELEASE ||
					iot.GetPushButton().GetActionButtonLabels()[1] != "B" {
					t.Errorf("fields 29-32: %v", iot)
				}
			},
		},
		{
			name: "DEVICE_COUNT",
			wire: envelope("event-1", 1, firehosev1.EventType_DEVICE_COUNT).
				msg(25, enc{}.msg(1, location).varint(2, 1234567890123).varint(3, 99).f64(4, 12.5).varint(5, -3).
					varint(6, 4).f64(7, 0.25).f64(8, 81.5).varint(12, 5).varint(13, 6).varint(14, 7).varint(15, 8).varint(16, 9)),
			new: func() proto.Message { return new(firehosev1.EventRecord) },
			check: func(t *testing.T, m proto.Message) {
				c := m.(*firehosev1.EventRecord).GetDeviceCounts()
				if c.GetAssociatedCount() != 1234567890123 || c.GetProbingRandomizedPercentage() != 12.5 ||
					c.GetAssociatedDelta() != -3 || c.GetEstimatedCapacityPercentage() != 81.5 ||
					c.GetUserCount() != 5 || c.GetBleTagCount() != 9 {
					t.Errorf("deviceCounts: %v", c)
				}
			},
		},
		{
			name: "TP_PEOPLE_COUNT_UPDATE",
			wire: envelope("event-2", 2, firehosev1.EventType_TP_PEOPLE_COUNT_UPDATE).
				msg(15, enc{}.str(1, "tp-1").msg(2, location).varint(3, 1).varint(4, 17).varint(6, 1).varint(11, 1700000000000).
					str(12, "aa:bb").f32(13, 2.5).f32(14, 21.25).varint(15, 40).varint(16, 35).str(17, "BRIGHT").
					varint(18, 300).varint(19, 1).str(20, "GOOD")),
			new: func() proto.Message { return new(firehosev1.EventRecord) },
			check: func(t *testing.T, m proto.Message) {
				tp := m.(*firehosev1.EventRecord).GetTpPeopleCountUpdate()
				if !tp.GetPresence() || tp.GetPeopleCount() != 17 || tp.GetTimeStamp() != 1700000000000 ||
					tp.GetAirQualityIndex() != 2.5 || tp.GetTemperatureInCelsius() != 21.25 || tp.GetHumidityInPercentage() != 40 ||
					tp.GetAmbientLight() != "BRIGHT" || !tp.GetCloseProximity() || tp.GetAirQualityStatus() != "GOOD" {
					t.Errorf("tpPeopleCountUpdate: %v", tp)
				}
			},
		},
		{
			name: "DEVICE_PRESENCE",
			wire: envelope("event-3", 3, firehosev1.EventType_DEVICE_PRESENCE).
				msg(20, enc{}.varint(1, 3).varint(2, 1).msg(3, device).msg(4, location).varint(8, 2).
					varint(9, 10).varint(11, 20).varint(13, 180).str(14, "Europe/Paris").varint(17, 5).varint(18, 6)),
			new: func() proto.Message { return new(firehosev1.EventRecord) },
			check: func(t *testing.T, m proto.Message) {
				p := m.(*firehosev1.EventRecord).GetDevicePresence()
				if p.GetPresenceEventType() != firehosev1.DevicePresenceEventType_DEVICE_EXIT_EVENT || !p.GetWasInActive() ||
					p.GetExitTimestamp() != 20 || p.GetVisitDurationMinutes() != 180 || p.GetInActiveDevicesCount() != 6 {
					t.Errorf("devicePresence: %v", p)
				}
			},
		},
		{
			name: "USER_PRESENCE",
			wire: envelope("event-4", 4, firehosev1.EventType_USER_PRESENCE).
				msg(21, enc{}.varint(1, 1).msg(3, enc{}.str(1, "user-1").str(2, "device-1").varint(6, 1)).
					varint(11, 30).msg(13, enc{}.varint(1, 1).varint(3, 3)).msg(14, enc{}.varint(2, 2)).varint(15, 1)),
			new: func() proto.Message { return new(firehosev1.EventRecord) },
			check: func(t *testing.T, m proto.Message) {
				p := m.(*firehosev1.EventRecord).GetUserPresence()
				if p.GetPresenceEventType() != firehosev1.UserPresenceEventType_USER_IN_ACTIVE_EVENT ||
					p.GetUser().GetDeviceIds()[0] != "device-1" || p.GetUser().GetGender() != firehosev1.Gender_MALE ||
					p.GetActiveUsersCount().GetTotalUsers() != 3 || p.GetInActiveUsersCount().GetUsersWithoutUserId() != 2 ||
					p.GetConnection() != firehosev1.Connection_CONN_WIRED {
					t.Errorf("userPresence: %v", p)
				}
			},
		},
		{
			name: "LOCATION_CHANGE",
			wire: envelope("event-5", 5, firehosev1.EventType_LOCATION_CHANGE).
				msg(11, enc{}.varint(1, 2).msg(2, location).msg(3, enc{}.str(3, "Europe/Paris").str(6, "FR").
					msg(8, enc{}.str(1, "k").str(2, "v")).f64(9, 48.85).f64(10, 2.35).
					msg(11, enc{}.str(1, "map-1").varint(2, 1024).varint(3, 768).str(4, "image/png").
						msg(5, enc{}.f32(1, 100).f32(2, 50).f32(3, 3).f32(4, 1.5).f32(5, 2.5))))),
			new: func() proto.Message { return new(firehosev1.EventRecord) },
			check: func(t *testing.T, m proto.Message) {
				c := m.(*firehosev1.EventRecord).GetLocationHierarchyChange()
				d := c.GetLocationDetails()
				if c.GetChangeType() != firehosev1.ChangeType_MOVE || d.GetCountry() != "FR" || d.GetMetadata()[0].GetValues()[0] != "v" ||
					d.GetLongitude() != 2.35 || d.GetMapDetails().GetImageHeight() != 768 ||
					d.GetMapDetails().GetDimension().GetOffsetY() != 2.5 {
					t.Errorf("locationHierarchyChange: %v", c)
				}
			},
		},
		{
			name: "APP_ACTIVATION",
			wire: envelope("event-6", 6, firehosev1.EventType_APP_ACTIVATION).
				msg(13, enc{}.str(2, "spaces-tenant-1").str(4, "app").str(7, "aa:*").str(8, "group-1")),
			new: func() proto.Message { return new(firehosev1.EventRecord) },
			check: func(t *testing.T, m proto.Message) {
				a := m.(*firehosev1.EventRecord).GetAppActivation()
				if a.GetSpacesTenantId() != "spaces-tenant-1" || a.GetMacFilters()[0] != "aa:*" || a.GetIotGroups()[0] != "group-1" {
					t.Errorf("appActivation: %v", a)
				}
			},
		},
		{
			name: "DEVICE_ENTRY",
			wire: envelope("event-7", 7, firehosev1.EventType_DEVICE_ENTRY).
				msg(7, enc{}.msg(1, device).str(3, "visit-1").varint(4, 100).varint(8, 12)),
			new: func() proto.Message { return new(firehosev1.EventRecord) },
			check: func(t *testing.T, m proto.Message) {
				e := m.(*firehosev1.EventRecord).GetDeviceEntry()
				if e.GetEntryTimestamp() != 100 || e.GetDaysSinceLastVisit() != 12 {
					t.Errorf("deviceEntry: %v", e)
				}
			},
		},
		{
			name: "DEVICE_EXIT",
			wire: envelope("event-8", 8, firehosev1.EventType_DEVICE_EXIT).
				msg(8, enc{}.varint(4, 95).varint(5, 100).varint(7, 200).str(11, "REPEAT")),
			new: func() proto.Message { return new(firehosev1.EventRecord) },
			check: func(t *testing.T, m proto.Message) {
				e := m.(*firehosev1.EventRecord).GetDeviceExit()
				if e.GetVisitDurationMinutes() != 95 || e.GetExitTimestamp() != 200 || e.GetVisitClassification() != "REPEAT" {
					t.Errorf("deviceExit: %v", e)
				}
			},
		},
		{
			name: "PROFILE_UPDATE",
			wire: envelope("event-9", 9, firehosev1.EventType_PROFILE_UPDATE).msg(10, deviceWith(
				enc{}.varint(1, 1).str(2, "@ada").msg(4, enc{}.str(1, "tw-1").varint(4, 12).varint(11, 1).str(15, "en").
					msg(101, enc{}.str(1, "k").str(2, "v"))))),
			new: func() proto.Message { return new(firehosev1.EventRecord) },
			check: func(t *testing.T, m proto.Message) {
				d := m.(*firehosev1.EventRecord).GetDeviceProfileUpdate()
				sn := d.GetSocialNetworkInfo()
				if d.GetDeviceId() != "device-1" || len(sn) != 1 || sn[0].GetSocialNetwork() != firehosev1.SocialNetwork_TWITTER ||
					sn[0].GetSocialHandle() != "@ada" || sn[0].GetTwitter().GetFriendsCount() != 12 || !sn[0].GetTwitter().GetProfileVerified() ||
					sn[0].GetTwitter().GetLang() != "en" || sn[0].GetTwitter().GetAttributes()[0].GetValues()[0] != "v" {
					t.Errorf("deviceProfileUpdate: %v", d)
				}
			},
		},
		{
			name: "RAW_CAMERA_COUNT",
			wire: envelope("event-10", 10, firehosev1.EventType_RAW_CAMERA_COUNT).
				msg(27, enc{}.msg(1, location).str(2, "cam-1").str(3, "zone-1").varint(4, 4)),
			new: func() proto.Message { return new(firehosev1.EventRecord) },
			check: func(t *testing.T, m proto.Message) {
				c := m.(*firehosev1.EventRecord).GetRawCameraCounts()
				if c.GetCameraZoneId() != "zone-1" || c.GetCount() != 4 {
					t.Errorf("rawCameraCounts: %v", c)
				}
			},
		},
		{
			name: "CAMERA_COUNT",
			wire: envelope("event-11", 11, firehosev1.EventType_CAMERA_COUNT).
				msg(26, enc{}.msg(1, location).varint(4, 9).varint(5, -2)),
			new: func() proto.Message { return new(firehosev1.EventRecord) },
			check: func(t *testing.T, m proto.Message) {
				c := m.(*firehosev1.EventRecord).GetCameraCounts()
				if c.GetCount() != 9 || c.GetCountDelta() != -2 {
					t.Errorf("cameraCounts: %v", c)
				}
			},
		},
		{
			name: "IOT_USER_ACTION",
			wire: envelope("event-12", 12, firehosev1.EventType_IOT_USER_ACTION).
				msg(24, enc{}.msg(1, deviceInfo).msg(3, position).varint(5, 1).varint(6, 2).varint(7, 1700000000000)),
			new: func() proto.Message { return new(firehosev1.EventRecord) },
			check: func(t *testing.T, m proto.Message) {
				a := m.(*firehosev1.EventRecord).GetIotUserAction()
				if a.GetActionType() != firehosev1.IOTActionType_IOT_ACTION_DOUBLE_TAP || a.GetActionCount() != 2 ||
					a.GetActionTimestamp() != 1700000000000 || a.GetPlacedPosition().GetXPos() != 26.6 {
					t.Errorf("iotUserAction: %v", a)
				}
			},
		},
		{
			name: "ACCOUNT_ADMIN_ACTIVATION with accountAdminChange",
			wire: envelope("event-13", 13, firehosev1.EventType_ACCOUNT_ADMIN_ACTIVATION).
				msg(14, enc{}.varint(1, 3).str(2, "admin@example.invalid")),
			new: func() proto.Message { return new(firehosev1.EventRecord) },
			check: func(t *testing.T, m proto.Message) {
				a := m.(*firehosev1.EventRecord).GetAccountAdminChange()
				if a.GetChangeType() != firehosev1.ChangeType_UPDATE || a.GetLoginEmail() != "admin@example.invalid" {
					t.Errorf("accountAdminChange: %v", a)
				}
			},
		},
		{
			name: "LOCATION_ANCHOR_UPDATE",
			wire: envelope("event-14", 14, firehosev1.EventType_LOCATION_ANCHOR_UPDATE).
				msg(30, enc{}.varint(1, 1).msg(2, location).msg(3, enc{}.str(1, "anchor-1").varint(3, 100).varint(4, 7).varint(5, -4).varint(6, -59).varint(7, 2402).
					str(8, "12.5").str(9, "7.25").str(10, "3").f64(11, 48.85).f64(12, 2.35).str(13, "map-1"))),
			new: func() proto.Message { return new(firehosev1.EventRecord) },
			check: func(t *testing.T, m proto.Message) {
				a := m.(*firehosev1.EventRecord).GetLocationAnchorUpdate()
				i := a.GetLocationAnchorInfo()
				if a.GetChangeType() != firehosev1.LocationAnchorUpdate_DELETE || i.GetFrequency() != 2402 ||
					i.GetXPos() != "12.5" || i.GetZPos() != "3" || i.GetLatitude() != 48.85 || i.GetLongitude() != 2.35 ||
					i.GetMajor() != 100 || i.GetMinor() != 7 || i.GetTxPower() != -4 || i.GetAdvTxPower() != -59 || i.GetMapId() != "map-1" {
					t.Errorf("locationAnchorUpdate: %v", a)
				}
			},
		},
		{
			name: "NETWORK_STATUS_UPDATE",
			wire: envelope("event-15", 15, firehosev1.EventType_NETWORK_STATUS_UPDATE).
				msg(31, enc{}.varint(1, 2).varint(2, 2).varint(3, 1700000000000).
					msg(5, enc{}.str(1, "ctl-1").str(5, "conn-1").str(7, "9800"))),
			new: func() proto.Message { return new(firehosev1.EventRecord) },
			check: func(t *testing.T, m proto.Message) {
				n := m.(*firehosev1.EventRecord).GetNetworkStatusUpdate()
				if n.GetDeviceType() != firehosev1.NetworkStatusUpdate_NDT_CONTROLLER ||
					n.GetStatus() != firehosev1.NetworkStatusUpdate_NDS_DISCONNECTED || n.GetLastHeard() != 1700000000000 ||
					n.GetControllerInfo().GetType() != "9800" || n.GetConnectorInfo() != nil {
					t.Errorf("networkStatusUpdate: %v", n)
				}
			},
		},
		{
			name: "NETWORK_TELEMETRY",
			wire: envelope("event-16", 16, firehosev1.EventType_NETWORK_TELEMETRY).
				msg(29, enc{}.msg(1, enc{}.
					msg(1, enc{}.varint(1, 10).varint(2, 9).f64(3, 90).varint(4, 20).varint(5, 19).f64(6, 95).str(7, "5GHz")).
					msg(2, enc{}.varint(1, 2).f64(2, 31.5).varint(3, 12).varint(4, 48))).
					msg(2, enc{}.f64(1, 120.5).f64(2, 480.25).f64(3, 0.5).varint(4, 23).varint(5, 7).str(6, "2.4GHz").f64(7, 1.25).f64(8, 4.2)).
					msg(3, location)),
			new: func() proto.Message { return new(firehosev1.EventRecord) },
			check: func(t *testing.T, m proto.Message) {
				n := m.(*firehosev1.EventRecord).GetNetworkTelemetry()
				if len(n.GetNetworkHealth().GetApTelemetries()) != 1 || len(n.GetNetworkPerformance()) != 1 ||
					n.GetLocation().GetLocationId() != "location-1" {
					t.Fatalf("networkTelemetry: %v", n)
				}
				av, ap, perf := n.GetNetworkHealth().GetNetworkAvailability()[0], n.GetNetworkHealth().GetApTelemetries()[0], n.GetNetworkPerformance()[0]
				if av.GetNumOfTests() != 10 || av.GetNumOfDnsLookupSuccess() != 19 || av.GetDnsLookupSuccessPercentage() != 95 || av.GetBand() != "5GHz" ||
					ap.GetApTelemetryType() != firehosev1.NetworkTelemetry_NetworkHealth_SNR || ap.GetAverage() != 31.5 || ap.GetMax() != 48 ||
					perf.GetAvgDownloadBandwidthMbps() != 480.25 || perf.GetAvgRttMs() != 23 || perf.GetBand() != "2.4GHz" || perf.GetMos() != 4.2 {
					t.Errorf("networkTelemetry: %v", n)
				}
			},
		},
		{
			name: "GetDeviceRequest",
			wire: enc{}.str(1, "partner-1").str(3, "device-1"),
			new:  func() proto.Message { return new(firehosev1.GetDeviceRequest) },
			check: func(t *testing.T, m proto.Message) {
				r := m.(*firehosev1.GetDeviceRequest)
				if r.GetPartnerTenantId() != "partner-1" || r.GetDeviceId() != "device-1" || r.GetMacAddress() != "" {
					t.Errorf("GetDeviceRequest: %v", r)
				}
			},
		},
		{
			name: "SaveDeviceRequest",
			// Go's encoder writes oneof members after the other fields.
			wire: enc{}.str(1, "partner-1").msg(4, enc{}.str(1, "Ada").str(2, "Lovelace").varint(3, 2).
				msg(4, enc{}.str(1, "+15550100").varint(2, 1)).msg(5, enc{}.str(1, "ada@example.com").varint(3, 1)).
				msg(6, enc{}.varint(1, 2).msg(5, enc{}.str(1, "li-1").str(5, "ada@example.com"))).varint(7, 1).
				str(8, "VIP").str(9, "OLD").msg(10, enc{}.str(1, "k").str(2, "v"))).str(2, "aa:bb"),
			new: func() proto.Message { return new(firehosev1.SaveDeviceRequest) },
			check: func(t *testing.T, m proto.Message) {
				r := m.(*firehosev1.SaveDeviceRequest)
				p := r.GetDeviceProfileData()
				if r.GetMacAddress() != "aa:bb" || p.GetFirstName() != "Ada" || p.GetGender() != firehosev1.Gender_FEMALE ||
					p.GetMobile().GetNumber() != "+15550100" || !p.GetMobile().GetVerified() || !p.GetEmail().GetOptedIn() ||
					p.GetSocialNetworkInfo()[0].GetLinkedIn().GetEmail() != "ada@example.com" || p.GetType() != firehosev1.DeviceType_MOBILE ||
					p.GetAddTags()[0] != "VIP" || p.GetRemoveTags()[0] != "OLD" || p.GetAttributes()[0].GetName() != "k" {
					t.Errorf("SaveDeviceRequest: %v", r)
				}
			},
		},
		{
			name: "LocationInfo",
			wire: enc{}.msg(2, location).msg(3, enc{}.str(4, "Paris")),
			new:  func() proto.Message { return new(firehosev1.LocationInfo) },
			check: func(t *testing.T, m proto.Message) {
				r := m.(*firehosev1.LocationInfo)
				if r.GetLocation().GetLocationId() != "location-1" || r.GetLocationDetails().GetCity() != "Paris" {
					t.Errorf("LocationInfo: %v", r)
				}
			},
		},
		{
			name: "FloorMap",
			wire: enc{}.msg(1, enc{}.str(1, "map-1")).raw(2, []byte{0x89, 'P', 'N', 'G'}),
			new:  func() proto.Message { return new(firehosev1.FloorMap) },
			check: func(t *testing.T, m proto.Message) {
				r := m.(*firehosev1.FloorMap)
				if r.GetMapDetails().GetMapId() != "map-1" || !bytes.Equal(r.GetImageData(), []byte{0x89, 'P', 'N', 'G'}) {
					t.Errorf("FloorMap: %v", r)
				}
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := tc.new()
			if err := proto.Unmarshal(tc.wire, m); err != nil {
				t.Fatalf("unmarshal: %v", err)
			}
			assertAllKnown(t, m.ProtoReflect(), string(m.ProtoReflect().Descriptor().Name()))
			tc.check(t, m)
			// The hand-encoded bytes list fields in the order Go's encoder
			// writes them (by number, oneof members last), so re-encoding
			// gives the same bytes back.
			out, err := proto.MarshalOptions{Deterministic: true}.Marshal(m)
			if err != nil {
				t.Fatalf("marshal: %v", err)
			}
			if !bytes.Equal(out, tc.wire) {
				t.Errorf("re-encoded bytes differ:\n got  %x\n want %x", out, []byte(tc.wire))
			}
		})
	}
}

// The request is what we send: its bytes must be exactly the spec's.
func TestEventsStreamRequestBytes(t *testing.T) {
	req := &firehosev1.EventsStreamRequest{MinPartition: 1, MaxPartition: 12, FromTimestamp: 1641977000000, ReplicaId: 2}
	got, err := proto.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	want := enc{}.varint(1, 1).varint(2, 12).varint(3, 1641977000000).varint(4, 2)
	if !bytes.Equal(got, want) {
		t.Errorf("EventsStreamRequest bytes %x, want %x", got, []byte(want))
	}
}
