package render

import (
	"os"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"strings"
	"testing"
)

// The versions of glamour and chroma whose internals pkg/render copies or reads. The renderer
// writes glamour's own output for each finished unit, but the live tail, code blocks and the
// styles are drawn by code that mirrors theirs; the harness tests compare the two only on the
// documents they hold.
const (
	pinnedGlamour = "v1.0.0"
	pinnedChroma  = "v2.20.0"
)

// mirrored is every place that depends on those internals, with what to check when a version
// changes.
var mirrored = []string{
	"code.go pushes: reads chroma's unexported list of mutators (SerialisableMutator kind \"mutators\", field Mutators) by reflection",
	"code.go pickLexer: glamour's choice of lexer (the fence's language, else chroma's analysis, else the fallback)",
	"code.go glamourUnescape: glamour's escapeReplacer for code it does not highlight",
	"code.go put/endLine: glamour's indent writer, word wrap and margin writer around a code block",
	"style.go styleText: glamour's renderText (case changes, then termenv colours and attributes in its order)",
	"style.go cascade: glamour's cascadeStylePrimitive (which settings a child inherits)",
	"style.go newTheme: glamour's fallback for unhighlighted code (block prefix/suffix, document style around it)",
	"style.go ttyEscapes: the layout of chroma's terminal256 formatter output (escape, token, reset)",
	"style.go codeTheme/snapped: how glamour registers its chroma style and how chroma picks the nearest of 256 colours",
	"padding.go tidy: glamour's padding of each line to the full width",
}

// Each entry names functions that exist, so the list follows the code when it moves.
func TestMirroredListNamesRealCode(t *testing.T) {
	for _, m := range mirrored {
		file, rest, _ := strings.Cut(m, " ")
		names, _, _ := strings.Cut(rest, ":")
		src, err := os.ReadFile(file)
		if err != nil {
			t.Errorf("%s: %v", m, err)
			continue
		}
		for _, name := range strings.Split(names, "/") {
			decl := regexp.MustCompile(`(?m)^(func (\([^)]*\) )?|var )` + regexp.QuoteMeta(name) + `\b`)
			if !decl.Match(src) {
				t.Errorf("mirrored list: %s declares no %s", file, name)
			}
		}
	}
}

// TestMirroredInternalsArePinned fails when glamour or chroma is upgraded, listing what
// pkg/render mirrors of them: check each against the new version, then update the pins.
func TestMirroredInternalsArePinned(t *testing.T) {
	got := map[string]string{}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Replace != nil {
				d = d.Replace
			}
			got[d.Path] = d.Version
		}
	}
	// Test binaries do not always carry their dependencies' versions: go.mod then says.
	mod, err := os.ReadFile(filepath.Join("..", "..", "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	if regexp.MustCompile(`(?m)^\s*(replace\s+)?(github\.com/charmbracelet/glamour|github\.com/alecthomas/chroma/v2)\s.*=>`).Match(mod) {
		t.Errorf("go.mod replaces glamour or chroma: the mirrored code below must be checked against the replacement")
	}
	for _, path := range []string{"github.com/charmbracelet/glamour", "github.com/alecthomas/chroma/v2"} {
		if got[path] != "" {
			continue
		}
		m := regexp.MustCompile(`(?m)^\s*(?:require\s+)?` + regexp.QuoteMeta(path) + `\s+(v\S+)`).FindSubmatch(mod)
		if m == nil {
			t.Fatalf("go.mod does not require %s", path)
		}
		got[path] = string(m[1])
	}
	glamourV, chromaV := got["github.com/charmbracelet/glamour"], got["github.com/alecthomas/chroma/v2"]
	if glamourV != pinnedGlamour || chromaV != pinnedChroma {
		t.Fatalf("glamour is %s (pinned %s), chroma is %s (pinned %s). pkg/render mirrors their internals here:\n  - %s\n"+
			"Check each against the new versions, then update pinnedGlamour/pinnedChroma.",
			glamourV, pinnedGlamour, chromaV, pinnedChroma, strings.Join(mirrored, "\n  - "))
	}
}
