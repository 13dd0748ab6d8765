package iostreams

import (
	"strconv"
	"strings"
)

// ColorEnabled reports whether ANSI colour may be written to stdout.
func (s *IOStreams) ColorEnabled() bool { return s.colorFor(s.stdoutTTY) }

// ErrColorEnabled reports whether ANSI colour may be written to stderr.
func (s *IOStreams) ErrColorEnabled() bool { return s.colorFor(s.stderrTTY) }

// NO_COLOR wins over CLICOLOR_FORCE: it is the stronger, explicit "no", as in termenv.
func (s *IOStreams) colorFor(tty bool) bool {
	if s.lookupEnv("NO_COLOR") != "" {
		return false
	}
	if s.colorForced() {
		return true
	}
	return tty && !s.dumbTerminal()
}

// RenderEnabled reports whether stdout should get rendered markdown rather than the raw text
// when the user did not choose a format: on a capable terminal, or when CLICOLOR_FORCE asks for
// it in a pipe (e.g. into less -R). It ignores NO_COLOR, which only removes the colour.
func (s *IOStreams) RenderEnabled() bool {
	return s.colorForced() || (s.stdoutTTY && !s.dumbTerminal())
}

func (s *IOStreams) colorForced() bool {
	v := s.lookupEnv("CLICOLOR_FORCE")
	return v != "" && v != "0"
}

// A dumb terminal (Emacs shell mode, some CI logs) shows escape sequences as text.
func (s *IOStreams) dumbTerminal() bool { return s.lookupEnv("TERM") == "dumb" }

// SetStyle records the style the user configured: "auto" (or ""), "dark", "light" or "notty".
func (s *IOStreams) SetStyle(pref string) {
	s.styleMu.Lock()
	s.stylePref, s.style = pref, ""
	s.styleMu.Unlock()
}

// Style returns the markdown style to hand to the renderer: a glamour style name or the path
// of a style file. It is decided once: the configured style unless it is "auto"; else
// GLAMOUR_STYLE (a name or a path); else light or dark from COLORFGBG; else dark.
//
// It never asks the terminal for its background colour (OSC 11) or cursor position (CSI 6n):
// a terminal that does not answer makes such a query cost seconds. Whether colour is allowed
// at all is a separate question (ColorEnabled).
func (s *IOStreams) Style() string {
	s.styleMu.Lock()
	defer s.styleMu.Unlock()
	if s.style == "" {
		s.style = s.detectStyle()
	}
	return s.style
}

func (s *IOStreams) detectStyle() string {
	switch p := strings.ToLower(strings.TrimSpace(s.stylePref)); p {
	case "dark", "light", "notty":
		return p
	}
	if g := strings.TrimSpace(s.lookupEnv("GLAMOUR_STYLE")); g != "" && g != "auto" {
		return g
	}
	if bg, ok := backgroundFromCOLORFGBG(s.lookupEnv("COLORFGBG")); ok {
		return bg
	}
	return "dark"
}

// backgroundFromCOLORFGBG reads the "fg;bg" (or "fg;other;bg") variable that rxvt, Konsole and
// others set. The background is a colour index: 0-6 and 8 are dark, 7 and 9-15 light (the
// rule Vim uses).
func backgroundFromCOLORFGBG(v string) (string, bool) {
	if v == "" {
		return "", false
	}
	fields := strings.Split(v, ";")
	bg, err := strconv.Atoi(strings.TrimSpace(fields[len(fields)-1]))
	if err != nil || bg < 0 || bg > 15 {
		return "", false
	}
	if bg <= 6 || bg == 8 {
		return "dark", true
	}
	return "light", true
}
