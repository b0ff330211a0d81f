package firehosev1_test

import (
	"strings"
	"testing"

	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	"github.com/firehose-go/firehose/proto/firehosev1"
)

// Our registration must not collide with code generated from Cisco's proto
// (package firehose_api_v1) or with another package's "firehose.proto".
func TestRegistrationNames(t *testing.T) {
	fd := (&firehosev1.EventRecord{}).ProtoReflect().Descriptor().ParentFile()
	if fd.Package() != "firehosego.cisco.v1" {
		t.Errorf("package %q, want firehosego.cisco.v1", fd.Package())
	}
	if fd.Path() != "firehosego/cisco/v1/firehose.proto" {
		t.Errorf("registered path %q", fd.Path())
	}
	if _, err := protoregistry.GlobalFiles.FindDescriptorByName("firehose_api_v1.EventRecord"); err == nil {
		t.Error("firehose_api_v1.EventRecord is registered; it must be left to Cisco's generated code")
	}
	for i := range fd.Messages().Len() {
		if name := fd.Messages().Get(i).FullName(); !strings.HasPrefix(string(name), "firehosego.cisco.v1.") {
			t.Errorf("message %s outside our package", name)
		}
	}
}

func field(t *testing.T, md protoreflect.MessageDescriptor, name string) protoreflect.FieldDescriptor {
	t.Helper()
	fd := md.Fields().ByName(protoreflect.Name(name))
	if fd == nil {
		t.Fatalf("%s has no field %s", md.FullName(), name)
	}
	return fd
}

// The JSON names protoc derived must be the keys seen on the NDJSON wire.
func TestJSONNamesMatchWire(t *testing.T) {
	iot := (&firehosev1.IOTTelemetry{}).ProtoReflect().Descriptor()
	cases := []struct {
		md    protoreflect.MessageDescriptor
		field string
		json  string
	}{
		{(&firehosev1.DeviceLocation{}).ProtoReflect().Descriptor(), "x_pos", "xPos"},
		{(&firehosev1.DeviceLocation{}).ProtoReflect().Descriptor(), "y_pos", "yPos"},
		{(&firehosev1.DeviceLocation{}).ProtoReflect().Descriptor(), "max_detected_rssi", "maxDetectedRssi"},
		{(&firehosev1.DeviceLocation{}).ProtoReflect().Descriptor(), "confidence_factor", "confidenceFactor"},
		{(&firehosev1.Location{}).ProtoReflect().Descriptor(), "source_location_id", "sourceLocationId"},
		{(&firehosev1.Location{}).ProtoReflect().Descriptor(), "ap_count", "apCount"},
		{(&firehosev1.Location{}).ProtoReflect().Descriptor(), "inferred_location_types", "inferredLocationTypes"},
		{(&firehosev1.Device{}).ProtoReflect().Descriptor(), "opt_ins", "optIns"},
		{(&firehosev1.DevicePresence{}).ProtoReflect().Descriptor(), "presence_event_type", "presenceEventType"},
		{(&firehosev1.DeviceInfo{}).ProtoReflect().Descriptor(), "device_mac_address", "deviceMacAddress"},
		{iot, "detected_position", "detectedPosition"},
		{iot, "device_rtc_time", "deviceRtcTime"},
		{iot, "pir_trigger", "pirTrigger"},
		{iot, "air_pressure", "airPressure"},
		{iot, "i_beacon", "iBeacon"},
		{iot, "raw_payload", "rawPayload"},
		{iot, "carbon_emissions", "carbonEmissions"},
		{iot, "tp_data", "tpData"},
		{(&firehosev1.IOTTelemetry_CarbonEmissions{}).ProtoReflect().Descriptor(), "co2_ppm", "co2Ppm"},
		{(&firehosev1.IOTTelemetry_Temperature{}).ProtoReflect().Descriptor(), "temperature_in_celsius", "temperatureInCelsius"},
		{(&firehosev1.IOTTelemetry_Accelerometer{}).ProtoReflect().Descriptor(), "last_movement_timestamp", "lastMovementTimestamp"},
		{(&firehosev1.DeviceEntry{}).ProtoReflect().Descriptor(), "days_since_last_visit", "daysSinceLastVisit"},
		{(&firehosev1.DeviceExit{}).ProtoReflect().Descriptor(), "visit_duration_minutes", "visitDurationMinutes"},
	}
	for _, c := range cases {
		if got := field(t, c.md, c.field).JSONName(); got != c.json {
			t.Errorf("%s.%s: JSON name %q, want %q", c.md.Name(), c.field, got, c.json)
		}
	}
}

// EventRecord's oneof: number, message and JSON key of every payload (spec
// table 2.4).
func TestEventRecordPayloads(t *testing.T) {
	md := (&firehosev1.EventRecord{}).ProtoReflect().Descriptor()
	want := []struct {
		num      protoreflect.FieldNumber
		name     string
		msg      string
		jsonName string
	}{
		{7, "device_entry", "DeviceEntry", "deviceEntry"},
		{8, "device_exit", "DeviceExit", "deviceExit"},
		{10, "device_profile_update", "Device", "deviceProfileUpdate"},
		{11, "location_hierarchy_change", "LocationChange", "locationHierarchyChange"},
		{12, "device_location_update", "DeviceLocation", "deviceLocationUpdate"},
		{13, "app_activation", "AppActivation", "appActivation"},
		{14, "account_admin_change", "AccountAdminChange", "accountAdminChange"},
		{15, "tp_people_count_update", "TPPeopleCountUpdate", "tpPeopleCountUpdate"},
		{20, "device_presence", "DevicePresence", "devicePresence"},
		{21, "user_presence", "UserPresence", "userPresence"},
		{23, "iot_telemetry", "IOTTelemetry", "iotTelemetry"},
		{24, "iot_user_action", "IOTUserAction", "iotUserAction"},
		{25, "device_counts", "DeviceCounts", "deviceCounts"},
		{26, "camera_counts", "CameraCounts", "cameraCounts"},
		{27, "raw_camera_counts", "RawCameraCounts", "rawCameraCounts"},
		{29, "network_telemetry", "NetworkTelemetry", "networkTelemetry"},
		{30, "location_anchor_update", "LocationAnchorUpdate", "locationAnchorUpdate"},
		{31, "network_status_update", "NetworkStatusUpdate", "networkStatusUpdate"},
	}
	oneof := md.Oneofs().ByName("event")
	if oneof == nil || oneof.Fields().Len() != len(want) {
		t.Fatalf("oneof event: %v", oneof)
	}
	for _, w := range want {
		fd := md.Fields().ByNumber(w.num)
		if fd == nil {
			t.Errorf("no field %d", w.num)
			continue
		}
		if fd.Name() != protoreflect.Name(w.name) || fd.Message() == nil || fd.Message().Name() != protoreflect.Name(w.msg) ||
			fd.JSONName() != w.jsonName || fd.ContainingOneof() != oneof {
			t.Errorf("field %d: %s %v json=%s; want %s %s json=%s in oneof event", w.num, fd.Name(), fd.Message(), fd.JSONName(), w.name, w.msg, w.jsonName)
		}
	}
}

func TestEventTypeNumbers(t *testing.T) {
	want := map[string]int32{
		"DEVICE_ENTRY": 0, "DEVICE_EXIT": 1, "PROFILE_UPDATE": 3, "LOCATION_CHANGE": 4, "KEEP_ALIVE": 5,
		"APP_ACTIVATION": 6, "ACCOUNT_ADMIN_ACTIVATION": 7, "DEVICE_LOCATION_UPDATE": 8, "TP_PEOPLE_COUNT_UPDATE": 9,
		"APP_DE_ACTIVATION": 10, "DEVICE_PRESENCE": 15, "USER_PRESENCE": 16, "IOT_TELEMETRY": 18, "IOT_USER_ACTION": 19,
		"DEVICE_COUNT": 20, "CAMERA_COUNT": 21, "RAW_CAMERA_COUNT": 22, "NETWORK_TELEMETRY": 24,
		"LOCATION_ANCHOR_UPDATE": 25, "NETWORK_STATUS_UPDATE": 26,
	}
	if len(firehosev1.EventType_name) != len(want) {
		t.Errorf("EventType has %d values, want %d", len(firehosev1.EventType_name), len(want))
	}
	for name, num := range want {
		if got, ok := firehosev1.EventType_value[name]; !ok || got != num {
			t.Errorf("EventType %s = %d (present %v), want %d", name, got, ok, num)
		}
	}
}
