package firehose

import (
	"errors"
	"testing"

	"github.com/firehose-go/firehose/internal/envelope"
)

const sampleLine = `{"recordUid":"event-57de904","recordTimestamp":1641977166586,"spacesTenantId":"spaces-tenant-1","spacesTenantName":"Simulation","partnerTenantId":"Simulation-Retail","eventType":"DEVICE_LOCATION_UPDATE","deviceLocationUpdate":{"device":{"deviceId":"d1","macAddress":"00:39:a7:8f:4a:00"},"xPos":372.79483,"yPos":12.5}}`

func scanned(t testing.TB, line string) (*Event, []byte) {
	t.Helper()
	buf := []byte(line)
	var env envelope.Envelope
	if err := envelope.Scan(buf, &env); err != nil {
		t.Fatal(err)
	}
	return newFrameEvent(jsonFrame(buf, &env)), buf
}

func TestOwnedEventIsOneCopy(t *testing.T) {
	ev, buf := scanned(t, sampleLine)
	// Scribble over the read buffer: the owned event must not change.
	for i := range buf {
		buf[i] = 'x'
	}
	if ev.ID() != "event-57de904" || ev.Timestamp() != 1641977166586 || ev.Type() != DeviceLocationUpdate ||
		ev.SpacesTenantID() != "spaces-tenant-1" || ev.SpacesTenantName() != "Simulation" || ev.PartnerTenantID() != "Simulation-Retail" ||
		ev.PayloadKey() != "deviceLocationUpdate" || string(ev.JSON()) != sampleLine {
		t.Fatalf("event changed with its source buffer: %s %q", ev, ev.JSON())
	}
	var p struct {
		Device struct{ MacAddress string }
		XPos   float64
	}
	if err := ev.Decode(&p); err != nil || p.Device.MacAddress != "00:39:a7:8f:4a:00" || p.XPos != 372.79483 {
		t.Fatalf("Decode: %+v %v", p, err)
	}
	if ev.Time().UnixMilli() != ev.Timestamp() {
		t.Fatal("Time")
	}
}

func TestOwnedEventAllocs(t *testing.T) {
	buf := []byte(sampleLine)
	var env envelope.Envelope
	if err := envelope.Scan(buf, &env); err != nil {
		t.Fatal(err)
	}
	if n := testing.AllocsPerRun(100, func() { _ = newFrameEvent(jsonFrame(buf, &env)) }); n > 2 {
		t.Fatalf("%v allocations per owned event, want <= 2", n)
	}
}

func TestUnknownTypeKeepsName(t *testing.T) {
	ev, _ := scanned(t, `{"recordUid":"event-1","recordTimestamp":"42","eventType":"FUTURE_THING","futureThing":{"a":1}}`)
	if ev.Type() != "FUTURE_THING" || ev.Type().Known() || ev.Timestamp() != 42 {
		t.Fatalf("%s", ev)
	}
	if !DeviceEntry.Known() || !KeepAlive.Known() {
		t.Fatal("documented types not known")
	}
}

func TestDecodeWithoutPayload(t *testing.T) {
	ev, _ := scanned(t, `{"recordUid":"event-1","recordTimestamp":1,"spacesTenantId":"","spacesTenantName":"","partnerTenantId":"","eventType":"APP_DE_ACTIVATION"}`)
	var v map[string]any
	if err := ev.Decode(&v); !errors.Is(err, ErrNoPayload) {
		t.Fatalf("Decode: %v", err)
	}
}

func TestEscapedIDIsCopied(t *testing.T) {
	ev, _ := scanned(t, `{"recordUid":"ev\u0065nt-1","recordTimestamp":1,"eventType":"DEVICE_ENTRY","deviceEntry":{}}`)
	if ev.ID() != "event-1" {
		t.Fatalf("id %q", ev.ID())
	}
}
