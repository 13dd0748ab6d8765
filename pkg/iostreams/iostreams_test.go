package iostreams

import (
	"net"
	"os"
	"path/filepath"
	"testing"
)

func TestTestDefaults(t *testing.T) {
	ios, _, _, _ := Test()
	if ios.IsStdinTTY() || ios.IsStdoutTTY() || ios.IsStderrTTY() {
		t.Error("Test streams must start as non-terminals")
	}
	if !ios.StdinIsPipeOrFile() {
		t.Error("Test stdin must count as a pipe so commands read it")
	}
	if ios.CanPrompt() {
		t.Error("CanPrompt without terminals")
	}
	ios.SetStdinTTY(true)
	if ios.CanPrompt() {
		t.Error("CanPrompt needs stdout to be a terminal too")
	}
	ios.SetStdoutTTY(true)
	if !ios.CanPrompt() {
		t.Error("CanPrompt false with stdin and stdout terminals")
	}
}

func TestColorPolicy(t *testing.T) {
	tests := []struct {
		name       string
		stdoutTTY  bool
		env        map[string]string
		wantColor  bool
		wantRender bool
	}{
		{"terminal", true, nil, true, true},
		{"piped", false, nil, false, false},
		{"NO_COLOR on a terminal keeps rendering", true, map[string]string{"NO_COLOR": "1"}, false, true},
		{"empty NO_COLOR is unset", true, map[string]string{"NO_COLOR": ""}, true, true},
		{"TERM=dumb", true, map[string]string{"TERM": "dumb"}, false, false},
		{"TERM=xterm", true, map[string]string{"TERM": "xterm-256color"}, true, true},
		{"CLICOLOR_FORCE piped", false, map[string]string{"CLICOLOR_FORCE": "1"}, true, true},
		{"CLICOLOR_FORCE=0 piped", false, map[string]string{"CLICOLOR_FORCE": "0"}, false, false},
		{"CLICOLOR_FORCE on a dumb terminal", true, map[string]string{"CLICOLOR_FORCE": "yes", "TERM": "dumb"}, true, true},
		{"NO_COLOR wins over CLICOLOR_FORCE", false, map[string]string{"NO_COLOR": "1", "CLICOLOR_FORCE": "1"}, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ios, _, _, _ := Test()
			ios.SetStdoutTTY(tt.stdoutTTY)
			for k, v := range tt.env {
				ios.SetEnv(k, v)
			}
			if got := ios.ColorEnabled(); got != tt.wantColor {
				t.Errorf("ColorEnabled() = %v, want %v", got, tt.wantColor)
			}
			if got := ios.RenderEnabled(); got != tt.wantRender {
				t.Errorf("RenderEnabled() = %v, want %v", got, tt.wantRender)
			}
		})
	}
}

func TestErrColorFollowsStderr(t *testing.T) {
	ios, _, _, _ := Test()
	ios.SetStderrTTY(true)
	if ios.ColorEnabled() || !ios.ErrColorEnabled() {
		t.Errorf("stdout piped, stderr terminal: ColorEnabled=%v ErrColorEnabled=%v", ios.ColorEnabled(), ios.ErrColorEnabled())
	}
	ios.SetEnv("NO_COLOR", "1")
	if ios.ErrColorEnabled() {
		t.Error("NO_COLOR must apply to stderr too")
	}
}

func TestTestIgnoresProcessEnvironment(t *testing.T) {
	t.Setenv("NO_COLOR", "1")
	t.Setenv("COLUMNS", "33")
	ios, _, _, _ := Test()
	ios.SetStdoutTTY(true)
	if !ios.ColorEnabled() || ios.Width() != DefaultWidth {
		t.Error("Test streams read the process environment")
	}
}

func TestStyle(t *testing.T) {
	tests := []struct {
		name string
		pref string
		env  map[string]string
		want string
	}{
		{"default", "", nil, "dark"},
		{"auto default", "auto", nil, "dark"},
		{"configured light", "light", nil, "light"},
		{"configured notty", "notty", nil, "notty"},
		{"GLAMOUR_STYLE name", "auto", map[string]string{"GLAMOUR_STYLE": "dracula"}, "dracula"},
		{"GLAMOUR_STYLE path", "", map[string]string{"GLAMOUR_STYLE": "/home/me/style.json"}, "/home/me/style.json"},
		{"configured style beats GLAMOUR_STYLE", "dark", map[string]string{"GLAMOUR_STYLE": "light"}, "dark"},
		{"GLAMOUR_STYLE=auto falls through", "", map[string]string{"GLAMOUR_STYLE": "auto", "COLORFGBG": "0;15"}, "light"},
		{"GLAMOUR_STYLE beats COLORFGBG", "", map[string]string{"GLAMOUR_STYLE": "pink", "COLORFGBG": "0;15"}, "pink"},
		{"COLORFGBG dark", "", map[string]string{"COLORFGBG": "15;0"}, "dark"},
		{"COLORFGBG light", "", map[string]string{"COLORFGBG": "0;15"}, "light"},
		{"COLORFGBG three fields", "", map[string]string{"COLORFGBG": "0;default;7"}, "light"},
		{"COLORFGBG grey is dark", "", map[string]string{"COLORFGBG": "7;8"}, "dark"},
		{"COLORFGBG default bg", "", map[string]string{"COLORFGBG": "7;default"}, "dark"},
		{"COLORFGBG garbage", "", map[string]string{"COLORFGBG": "what"}, "dark"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ios, _, _, _ := Test()
			ios.SetStyle(tt.pref)
			for k, v := range tt.env {
				ios.SetEnv(k, v)
			}
			if got := ios.Style(); got != tt.want {
				t.Errorf("Style() = %q, want %q", got, tt.want)
			}
		})
	}
}

// The style is decided once and without talking to the terminal: no query written, no answer
// read, the environment consulted on the first call only.
func TestStyleDetectedOnceWithoutQueries(t *testing.T) {
	ios, in, out, errOut := Test()
	ios.SetStdinTTY(true)
	ios.SetStdoutTTY(true)
	ios.SetStderrTTY(true)
	in.WriteString("\x1b]11;rgb:ffff/ffff/ffff\x1b\\")
	lookups := 0
	ios.getenv = func(key string) string {
		lookups++
		if key == "COLORFGBG" {
			return "0;15"
		}
		return ""
	}
	for range 3 {
		if got := ios.Style(); got != "light" {
			t.Fatalf("Style() = %q", got)
		}
	}
	if lookups == 0 || lookups > 2 {
		t.Errorf("environment read %d times over 3 calls, want one detection", lookups)
	}
	if out.Len() != 0 || errOut.Len() != 0 || in.Len() == 0 {
		t.Errorf("Style() talked to the terminal: out %q err %q, stdin left %d bytes", out, errOut, in.Len())
	}
}

func TestWidth(t *testing.T) {
	tests := []struct {
		name       string
		cols, rows int
		wrap       int
		env        map[string]string
		wantWidth  int
		wantHeight int
	}{
		{"unknown size", 0, 0, 0, nil, 80, 40},
		{"narrow terminal", 100, 30, 0, nil, 100, 30},
		{"wide terminal capped", 200, 50, 0, nil, 120, 50},
		{"wrap overrides", 200, 50, 72, nil, 72, 50},
		{"wrap may exceed the cap", 100, 30, 150, nil, 150, 30},
		{"COLUMNS when not a terminal", 0, 0, 0, map[string]string{"COLUMNS": "90", "LINES": "33"}, 90, 33},
		{"COLUMNS capped", 0, 0, 0, map[string]string{"COLUMNS": "300"}, 120, 40},
		{"bad COLUMNS", 0, 0, 0, map[string]string{"COLUMNS": "wide"}, 80, 40},
		{"terminal beats COLUMNS", 100, 30, 0, map[string]string{"COLUMNS": "90"}, 100, 30},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ios, _, _, _ := Test()
			if tt.cols > 0 {
				ios.SetSize(tt.cols, tt.rows)
			}
			ios.SetWrap(tt.wrap)
			for k, v := range tt.env {
				ios.SetEnv(k, v)
			}
			if got := ios.Width(); got != tt.wantWidth {
				t.Errorf("Width() = %d, want %d", got, tt.wantWidth)
			}
			if got := ios.Height(); got != tt.wantHeight {
				t.Errorf("Height() = %d, want %d", got, tt.wantHeight)
			}
		})
	}
	ios, _, _, _ := Test()
	ios.SetSize(100, 30)
	ios.SetWrap(60)
	ios.SetWrap(0)
	if ios.Width() != 100 {
		t.Errorf("SetWrap(0) must return to the terminal width, got %d", ios.Width())
	}
}

func TestIsPipeOrFile(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()

	file, err := os.Create(filepath.Join(t.TempDir(), "prompt.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()

	devNull, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer devNull.Close()

	dir, err := os.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer dir.Close()

	// An idle socket, as some CI runners and editors give a child process for stdin.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	sock, err := conn.(*net.TCPConn).File()
	if err != nil {
		t.Fatal(err)
	}
	defer sock.Close()

	for _, tt := range []struct {
		name string
		f    *os.File
		want bool
	}{
		{"pipe", r, true},
		{"regular file", file, true},
		{"/dev/null", devNull, false},
		{"directory", dir, false},
		{"socket", sock, false},
	} {
		if got := isPipeOrFile(tt.f); got != tt.want {
			t.Errorf("isPipeOrFile(%s) = %v, want %v", tt.name, got, tt.want)
		}
	}
}
