package cli

import "testing"

func TestFormatSize(t *testing.T) {
	for n, want := range map[int64]string{512: "512 B", 1536: "1.5 KB", 12 << 20: "12.0 MB", 3 << 30: "3.0 GB"} {
		if got := FormatSize(n); got != want {
			t.Errorf("FormatSize(%d) = %q, want %q", n, got, want)
		}
	}
}
