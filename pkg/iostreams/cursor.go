package iostreams

import (
	"os"
	"path/filepath"
	"strings"
)

// CanMoveCursor reports whether stdout is a terminal that can move the cursor, the condition
// for drawing anything in place (the renderer's live tail). It is false into a pipe (even
// with CLICOLOR_FORCE), under TERM=dumb, and for a TERM that names no terminal moonchat
// knows and that has no terminfo entry: such a terminal prints cursor movement as text.
// An unset TERM counts as capable: Windows consoles and some IDE terminals set none and
// understand the usual sequences.
func (s *IOStreams) CanMoveCursor() bool { return s.stdoutTTY && s.cursorTerminal() }

// ErrCanMoveCursor is CanMoveCursor for stderr (the spinner and status line).
func (s *IOStreams) ErrCanMoveCursor() bool { return s.stderrTTY && s.cursorTerminal() }

// cursorTerminals are TERM prefixes of terminals that implement the VT100 cursor controls
// moonchat uses (CUU, ED, EL, DECTCEM), whether or not this machine has their terminfo.
var cursorTerminals = []string{"xterm", "screen", "tmux", "rxvt", "vt100", "vt102", "vt220", "vt3",
	"vt4", "vt5", "linux", "alacritty", "kitty", "foot", "wezterm", "st", "konsole", "gnome", "putty",
	"cygwin", "iterm", "contour", "ghostty", "ms-terminal", "mintty", "eterm", "mlterm", "terminator",
	"termite", "kterm", "ansi", "rio", "zellij"}

func (s *IOStreams) cursorTerminal() bool {
	term := s.lookupEnv("TERM")
	switch {
	case term == "":
		return true
	case term == "dumb":
		return false
	}
	for _, p := range cursorTerminals {
		if term == p || strings.HasPrefix(term, p+"-") || strings.HasPrefix(term, p+"+") ||
			(len(p) > 3 && strings.HasPrefix(term, p)) {
			return true
		}
	}
	return s.hasTerminfo(term)
}

// hasTerminfo reports whether a terminfo entry for term exists where ncurses looks for one.
func (s *IOStreams) hasTerminfo(term string) bool {
	if s.terminfoDirs == nil || strings.ContainsAny(term, `/\`) || term == "." || term == ".." {
		return false
	}
	for _, dir := range s.terminfoDirs() {
		// Linux files entries under their first letter, macOS under its hex code.
		for _, sub := range []string{term[:1], hexByte(term[0])} {
			if info, err := os.Stat(filepath.Join(dir, sub, term)); err == nil && !info.IsDir() {
				return true
			}
		}
	}
	return false
}

func hexByte(b byte) string {
	const digits = "0123456789abcdef"
	return string([]byte{digits[b>>4], digits[b&15]})
}

// systemTerminfoDirs are the directories ncurses searches, in its order.
func (s *IOStreams) systemTerminfoDirs() []string {
	var dirs []string
	if d := s.lookupEnv("TERMINFO"); d != "" {
		dirs = append(dirs, d)
	}
	if home := s.lookupEnv("HOME"); home != "" {
		dirs = append(dirs, filepath.Join(home, ".terminfo"))
	}
	for _, d := range strings.Split(s.lookupEnv("TERMINFO_DIRS"), ":") {
		if d != "" {
			dirs = append(dirs, d)
		}
	}
	return append(dirs, "/etc/terminfo", "/lib/terminfo", "/usr/share/terminfo", "/usr/lib/terminfo",
		"/usr/share/lib/terminfo", "/usr/local/share/terminfo", "/opt/homebrew/share/terminfo")
}

// SetTerminfoDirs sets where terminfo entries are looked for, for tests; Test looks nowhere.
func (s *IOStreams) SetTerminfoDirs(dirs ...string) {
	s.terminfoDirs = func() []string { return dirs }
}
