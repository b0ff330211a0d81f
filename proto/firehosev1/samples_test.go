package firehosev1_test

import (
	"bufio"
	"bytes"
	"errors"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protojson"

	"github.com/firehose-go/firehose/proto/firehosev1"
)

// samplePath locates a captured Cisco sample in the shared folder beside the
// repository (never copied into it); the test skips when it is absent
// (fails with FIREHOSE_REQUIRE_SAMPLES=1).
func samplePath(t *testing.T, name string) string {
	t.Helper()
	p := filepath.Join("..", "..", "..", "shared", "cisco-samples", name)
	if _, err := os.Stat(p); errors.Is(err, fs.ErrNotExist) {
		if requireShared() {
			t.Fatalf("sample %s not found and FIREHOSE_REQUIRE_SAMPLES=1", p)
		}
		t.Skipf("sample %s not found (shared/cisco-samples is not beside the repo)", p)
	} else if err != nil {
		t.Fatal(err)
	}
	return p
}

var lenient = protojson.UnmarshalOptions{DiscardUnknown: true}

func near(got float64, want float64) bool {
	return math.Abs(got-want) <= 1e-4*math.Max(1, math.Abs(want))
}

func TestProtojsonBeamCapture(t *testing.T) {
	data, err := os.ReadFile(samplePath(t, "beam-template-xy_data.repaired.ndjson"))
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64<<10), 8<<20)
	var lines, dlu, keepAlive int
	for sc.Scan() {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		lines++
		var rec firehosev1.EventRecord
		if err := lenient.Unmarshal(line, &rec); err != nil {
			t.Errorf("line %d: %v", lines, err)
			continue
		}
		// Strict decoding too: every key of the capture is one of our JSON
		// names, every enum name one of our values.
		var strict firehosev1.EventRecord
		if err := protojson.Unmarshal(line, &strict); err != nil {
			t.Errorf("line %d: strict protojson: %v", lines, err)
		}
		if rec.GetRecordUid() == "" || rec.GetRecordTimestamp() == 0 {
			t.Errorf("line %d: envelope not decoded: %v", lines, &rec)
		}
		// Every event type in this capture is one our enum knows; check the
		// name round-trips (DiscardUnknown would silently make it 0).
		if !strings.Contains(string(line), `"eventType":"`+rec.GetEventType().String()+`"`) {
			t.Errorf("line %d: eventType decoded as %v", lines, rec.GetEventType())
		}
		switch rec.GetEventType() {
		case firehosev1.EventType_DEVICE_LOCATION_UPDATE:
			dlu++
			loc := rec.GetDeviceLocationUpdate()
			if loc == nil {
				t.Errorf("line %d: DEVICE_LOCATION_UPDATE without deviceLocationUpdate payload", lines)
				continue
			}
			if loc.GetDevice().GetMacAddress() == "" || loc.GetLocation().GetLocationId() == "" {
				t.Errorf("line %d: payload not decoded: %v", lines, loc)
			}
		case firehosev1.EventType_KEEP_ALIVE:
			keepAlive++
			if rec.GetEvent() != nil {
				t.Errorf("line %d: KEEP_ALIVE with a payload: %v", lines, rec.GetEvent())
			}
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if lines != 44 || dlu != 43 || keepAlive != 1 {
		t.Errorf("got %d lines, %d DEVICE_LOCATION_UPDATE, %d KEEP_ALIVE; want 44, 43, 1", lines, dlu, keepAlive)
	}
}

// The first DEVICE_LOCATION_UPDATE of the capture, field by field: int64 as
// JSON numbers, float vs double, a five-deep parent chain, enum names.
func TestProtojsonBeamFirstLocationUpdate(t *testing.T) {
	data, err := os.ReadFile(samplePath(t, "beam-template-xy_data.repaired.ndjson"))
	if err != nil {
		t.Fatal(err)
	}
	var line []byte
	for l := range bytes.Lines(data) {
		if bytes.Contains(l, []byte(`"recordUid":"event-f3e19217"`)) {
			line = l
			break
		}
	}
	if line == nil {
		t.Skip("event-f3e19217 not in the sample")
	}
	var rec firehosev1.EventRecord
	if err := lenient.Unmarshal(line, &rec); err != nil {
		t.Fatal(err)
	}
	if rec.GetRecordTimestamp() != 1641977166586 || rec.GetSpacesTenantName() != "Simulation" || rec.GetPartnerTenantId() != "Simulation-Retail" {
		t.Errorf("envelope: %v", &rec)
	}
	dl := rec.GetDeviceLocationUpdate()
	d := dl.GetDevice()
	if d.GetDeviceId() != "device-qNCqfbaowTbMviFDFEAt2" || d.GetOs() != "Android" ||
		d.GetGender() != firehosev1.Gender_GENDER_NOT_AVAILABLE || d.GetType() != firehosev1.DeviceType_NOT_AVAILABLE ||
		len(d.GetOptIns()) != 1 || d.GetOptIns()[0] != firehosev1.Device_TERMS_AND_CONDITIONS {
		t.Errorf("device: %v", d)
	}
	depth := 0
	for l := dl.GetLocation(); l != nil; l = l.GetParent() {
		depth++
		if l.GetParent() == nil && (l.GetInferredLocationTypes()[0] != "ROOT" || l.GetApCount() != 3760) {
			t.Errorf("root location: %v", l)
		}
	}
	if depth != 5 {
		t.Errorf("location chain depth %d, want 5", depth)
	}
	if dl.GetLastSeen() != 1641975908000 || dl.GetMaxDetectedRssi() != -89 || dl.GetIpv4() != "192.168.36.244" {
		t.Errorf("scalars: %v", dl)
	}
	if !near(float64(dl.GetXPos()), 372.79483) || !near(float64(dl.GetYPos()), 210.72083) ||
		dl.GetConfidenceFactor() != 328 || dl.GetLatitude() != -999 || dl.GetLongitude() != -999 {
		t.Errorf("positions: x=%v y=%v cf=%v lat=%v lon=%v", dl.GetXPos(), dl.GetYPos(), dl.GetConfidenceFactor(), dl.GetLatitude(), dl.GetLongitude())
	}
}

func TestProtojsonIOTTelemetryTSync(t *testing.T) {
	data, err := os.ReadFile(samplePath(t, "tsync-readme-iot-telemetry.json"))
	if err != nil {
		t.Fatal(err)
	}
	var rec firehosev1.EventRecord
	if err := lenient.Unmarshal(data, &rec); err != nil {
		t.Fatal(err)
	}
	iot := rec.GetIotTelemetry()
	if rec.GetEventType() != firehosev1.EventType_IOT_TELEMETRY || iot == nil {
		t.Fatalf("not an IOT_TELEMETRY with payload: %v", &rec)
	}
	if iot.GetDeviceInfo().GetDeviceMacAddress() != "29:2f:2b:c5:fa:48" {
		t.Errorf("deviceInfo: %v", iot.GetDeviceInfo())
	}
	p := iot.GetDetectedPosition()
	if !near(float64(p.GetXPos()), 26.6) || !near(float64(p.GetYPos()), 62.3) ||
		!near(p.GetLatitude(), 50.049870563654046) || p.GetMapId() != "03c4bea7afd3b16d58f153db346d8070" {
		t.Errorf("detectedPosition: %v", p)
	}
}

// The UWB sample carries "deviceType":"IOT_UWB_TAG", a value newer than
// v1.2.6, plus fields we have no numbers for (allComputedPositions,
// computeType). This test records what protojson does with them; it does
// not work around it.
func TestProtojsonIOTTelemetryUWB(t *testing.T) {
	data, err := os.ReadFile(samplePath(t, "uwb-test-iot-telemetry.json"))
	if err != nil {
		t.Fatal(err)
	}

	// Strict decoding rejects the unknown enum name.
	var strict firehosev1.EventRecord
	err = protojson.Unmarshal(data, &strict)
	if err == nil {
		t.Fatal("strict protojson accepted the unknown enum name IOT_UWB_TAG")
	}
	t.Logf("strict protojson: %v", err)

	// DiscardUnknown drops the unknown name: the field is left unset, which
	// reads as the enum's zero value, IOT_DEVICE_UNKNOWN. Unknown fields are
	// dropped; the rest decodes.
	var rec firehosev1.EventRecord
	if err := lenient.Unmarshal(data, &rec); err != nil {
		t.Fatal(err)
	}
	iot := rec.GetIotTelemetry()
	if iot == nil {
		t.Fatalf("no iotTelemetry payload: %v", &rec)
	}
	if got := iot.GetDeviceInfo().GetDeviceType(); got != firehosev1.IOTDeviceType_IOT_DEVICE_UNKNOWN {
		t.Errorf("deviceType = %v, want the zero value IOT_DEVICE_UNKNOWN", got)
	}
	if len(iot.GetDeviceInfo().ProtoReflect().GetUnknown()) != 0 {
		t.Errorf("protojson kept unknown bytes")
	}
	if iot.GetDeviceInfo().GetDeviceId() != "10:35:97:15:b3:33" {
		t.Errorf("deviceId: %v", iot.GetDeviceInfo())
	}
	p := iot.GetDetectedPosition()
	if !near(float64(p.GetXPos()), 241.9) || !near(p.GetConfidenceFactor(), 3.134392499923706) {
		t.Errorf("detectedPosition: %v", p)
	}
}
