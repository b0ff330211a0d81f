package sourceflags

import (
	"strings"
	"testing"
	"time"
)

func TestParseFrom(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		in      string
		want    int64
		wantErr string
	}{
		{"", 0, ""},
		{"0", 0, ""},
		{"1777636800000", 1777636800000, ""},
		{" 1777636800000 ", 1777636800000, ""},
		{"10m", now.Add(-10 * time.Minute).UnixMilli(), ""},
		{"1h30m", now.Add(-90 * time.Minute).UnixMilli(), ""},
		{"1.5s", now.Add(-1500 * time.Millisecond).UnixMilli(), ""},
		{"2026-05-01T11:50:00Z", now.Add(-10 * time.Minute).UnixMilli(), ""},
		{"2026-05-01T13:50:00.250+02:00", now.Add(-10*time.Minute + 250*time.Millisecond).UnixMilli(), ""},
		{"1777636800", 0, "looks like seconds"},
		{"-5", 0, "milliseconds"},
		{"-10m", 0, "positive duration"},
		{"0s", 0, "positive duration"},
		{"2026-05-02T12:00:00Z", 0, "future"},
		{"1777723200000", 0, "future"},
		{"1969-12-31T23:00:00Z", 0, "1970"},
		{"yesterday", 0, "want epoch milliseconds"},
		{"2026-05-01", 0, "want epoch milliseconds"},
	}
	for _, tt := range tests {
		got, err := ParseFrom(tt.in, now)
		switch {
		case tt.wantErr != "":
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParseFrom(%q) = %d, %v; want an error mentioning %q", tt.in, got, err, tt.wantErr)
			}
		case err != nil || got != tt.want:
			t.Errorf("ParseFrom(%q) = %d, %v; want %d", tt.in, got, err, tt.want)
		}
	}
}
