package files

import (
	"testing"
	"time"
)

func TestParseAge(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"30d", 30 * 24 * time.Hour, true},
		{"2w", 14 * 24 * time.Hour, true},
		{"1.5d", 36 * time.Hour, true},
		{"12h", 12 * time.Hour, true},
		{"1h30m", 90 * time.Minute, true},
		{"-3d", 0, false},
		{"soon", 0, false},
		{"d", 0, false},
	}
	for _, tt := range tests {
		got, err := parseAge(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("parseAge(%q) = %v, %v", tt.in, got, err)
		}
	}
}

func TestSize(t *testing.T) {
	for n, want := range map[int64]string{512: "512 B", 1536: "1.5 KB", 12 << 20: "12.0 MB", 3 << 30: "3.0 GB"} {
		if got := size(n); got != want {
			t.Errorf("size(%d) = %q, want %q", n, got, want)
		}
	}
}
