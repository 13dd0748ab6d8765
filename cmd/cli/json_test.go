package cli

import (
	"bytes"
	"testing"
)

func TestWriteJSON(t *testing.T) {
	v := map[string]any{"code": "if a < b && c > d {}", "n": []int{1, 2}}
	tests := []struct {
		name  string
		write func(*bytes.Buffer) error
		want  string
	}{
		{"indented", func(b *bytes.Buffer) error { return WriteJSON(b, v) },
			"{\n  \"code\": \"if a < b && c > d {}\",\n  \"n\": [\n    1,\n    2\n  ]\n}\n"},
		{"one line", func(b *bytes.Buffer) error { return WriteJSONLine(b, v) },
			"{\"code\":\"if a < b && c > d {}\",\"n\":[1,2]}\n"},
	}
	for _, tt := range tests {
		var b bytes.Buffer
		if err := tt.write(&b); err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if b.String() != tt.want {
			t.Errorf("%s:\n got %q\nwant %q", tt.name, b.String(), tt.want)
		}
	}
}

func TestWriteJSONErrorWritesNothing(t *testing.T) {
	var b bytes.Buffer
	if err := WriteJSON(&b, map[string]any{"f": func() {}}); err == nil || b.Len() != 0 {
		t.Fatalf("err %v, wrote %q", err, b.String())
	}
}
