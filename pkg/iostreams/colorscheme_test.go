package iostreams

import "testing"

func TestColorScheme(t *testing.T) {
	on, off := ColorScheme{enabled: true}, ColorScheme{}
	for _, c := range []struct {
		name      string
		style     func(ColorScheme, string) string
		wantColor string
	}{
		{"bold", ColorScheme.Bold, "\x1b[1mx\x1b[0m"},
		{"dim", ColorScheme.Dim, "\x1b[2mx\x1b[0m"},
		{"warning", ColorScheme.Warning, "\x1b[33mx\x1b[0m"},
		{"prompt", ColorScheme.Prompt, "\x1b[1;36mx\x1b[0m"},
		{"match", ColorScheme.Match, "\x1b[1;33mx\x1b[0m"},
	} {
		if got := c.style(on, "x"); got != c.wantColor {
			t.Errorf("%s on: %q, want %q", c.name, got, c.wantColor)
		}
		if got := c.style(off, "x"); got != "x" {
			t.Errorf("%s off: %q, want the text alone", c.name, got)
		}
		if got := c.style(on, ""); got != "" {
			t.Errorf("%s of nothing: %q, want nothing", c.name, got)
		}
	}
}

// The scheme of each stream follows that stream's colour rules.
func TestColorSchemePerStream(t *testing.T) {
	ios, _, _, _ := Test()
	ios.SetStdoutTTY(true)
	if !ios.ColorScheme().Enabled() || ios.ErrColorScheme().Enabled() {
		t.Errorf("stdout a terminal, stderr not: stdout %v, stderr %v", ios.ColorScheme().Enabled(), ios.ErrColorScheme().Enabled())
	}
}
