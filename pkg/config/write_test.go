package config_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/moonchat/moonchat/internal/clitest"
	"github.com/moonchat/moonchat/pkg/config"
)

func readConfig(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func TestSetCreatesPrivateFile(t *testing.T) {
	path := clitest.Isolate(t)
	c := mustLoad(t)
	if err := c.Set("api_key", "sk-abcdefghijklmnopqrstuvwxyz"); err != nil {
		t.Fatal(err)
	}
	if got := readConfig(t, path); got != "api_key: sk-abcdefghijklmnopqrstuvwxyz\n" {
		t.Errorf("file = %q", got)
	}
	if v, o := c.Get("api_key"); v != "sk-abcdefghijklmnopqrstuvwxyz" || o != config.OriginFile {
		t.Errorf("after Set, Get(api_key) = %q, %s", v, o)
	}
	assertNoTempFiles(t, path)
}

func assertNoTempFiles(t *testing.T, path string) {
	t.Helper()
	entries, err := os.ReadDir(filepath.Dir(path))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Name() != filepath.Base(path) {
			t.Errorf("stray file left beside the config: %s", e.Name())
		}
	}
}

func TestSetUnsetRoundTrip(t *testing.T) {
	path := clitest.Isolate(t)
	const original = `# moonchat settings

# the model I like
model: moonshot-v1-8k # cheap
format: text
# wrap for my narrow terminal
wrap: 80
`
	clitest.WriteFile(t, path, original)
	c := mustLoad(t)

	if err := c.Set("model", "kimi-k2.6"); err != nil {
		t.Fatal(err)
	}
	if err := c.Set("temperature", "0.3"); err != nil {
		t.Fatal(err)
	}
	if err := c.Set("save_history", "no"); err != nil {
		t.Fatal(err)
	}
	const afterSet = `# moonchat settings

# the model I like
model: kimi-k2.6 # cheap
format: text
# wrap for my narrow terminal
wrap: 80
temperature: 0.3
save_history: false
`
	if got := readConfig(t, path); got != afterSet {
		t.Errorf("after Set:\n%s\nwant:\n%s", got, afterSet)
	}
	// Line numbers follow the rewritten file.
	if v := c.Value("temperature"); v.Source != path+":8" {
		t.Errorf("temperature source = %q", v.Source)
	}

	for _, name := range []string{"temperature", "save_history", "format"} {
		if err := c.Unset(name); err != nil {
			t.Fatal(err)
		}
	}
	const afterUnset = `# moonchat settings

# the model I like
model: kimi-k2.6 # cheap
# wrap for my narrow terminal
wrap: 80
`
	if got := readConfig(t, path); got != afterUnset {
		t.Errorf("after Unset:\n%s\nwant:\n%s", got, afterUnset)
	}
	if v, o := c.Get("format"); v != "auto" || o != config.OriginDefault {
		t.Errorf("after Unset, format = %q, %s", v, o)
	}

	// A fresh Load reads the same thing the Config believes.
	fresh := mustLoad(t)
	for _, k := range config.Keys() {
		a, b := c.Value(config.Name(k.Name)), fresh.Value(config.Name(k.Name))
		if a.Raw != b.Raw || a.Origin != b.Origin || a.Source != b.Source {
			t.Errorf("%s: in memory %+v, reloaded %+v", k.Name, a, b)
		}
	}
	assertNoTempFiles(t, path)
}

func TestSetQuotesStringsThatLookLikeOtherTypes(t *testing.T) {
	path := clitest.Isolate(t)
	c := mustLoad(t)
	for _, kv := range [][2]string{{"model", "true"}, {"api_key", "12345"}, {"temperature", "1"}, {"timeout", "90"}} {
		if err := c.Set(kv[0], kv[1]); err != nil {
			t.Fatal(err)
		}
	}
	want := "model: \"true\"\napi_key: \"12345\"\ntemperature: 1\ntimeout: \"90\"\n"
	if got := readConfig(t, path); got != want {
		t.Errorf("file:\n%s\nwant:\n%s", got, want)
	}
	fresh := mustLoad(t)
	if v, _ := fresh.Get("model"); v != "true" {
		t.Errorf("model read back as %q", v)
	}
}

func TestWriteRefusesInvalidFile(t *testing.T) {
	path := clitest.Isolate(t)
	clitest.WriteFile(t, path, "model: a\n")
	c := mustLoad(t)
	// The file breaks after Load (someone edits it); a write must not clobber the edit.
	const broken = "model: a\nmodle: b\n"
	clitest.WriteFile(t, path, broken)
	for _, write := range []func() error{
		func() error { return c.Set("wrap", "80") },
		func() error { return c.Unset("model") },
	} {
		err := write()
		var fe *config.FileError
		if !errors.As(err, &fe) || fe.Line != 2 || fe.Path != path {
			t.Errorf("write over an invalid file: %v, want a FileError at %s:2", err, path)
		}
		if got := readConfig(t, path); got != broken {
			t.Errorf("invalid file was rewritten: %q", got)
		}
	}
}

func TestSetRejects(t *testing.T) {
	path := clitest.Isolate(t)
	c := mustLoad(t)
	tests := []struct {
		key, value, want string
	}{
		{"temperature", "hot", `temperature: "hot" is not a number`},
		{"model", "  ", "model: empty value (use unset to remove a key)"},
		{"api_key", "sk-secret with space", "api_key: contains spaces or control characters (was it pasted with extra text?)"},
		{"modle", "x", `unknown key "modle" (did you mean "model"?)`},
	}
	for _, tt := range tests {
		err := c.Set(tt.key, tt.value)
		if err == nil || err.Error() != tt.want {
			t.Errorf("Set(%s, %q) = %v, want %q", tt.key, tt.value, err, tt.want)
		}
	}
	if err := c.Unset("modle"); !errors.Is(err, config.ErrUnknownKey) {
		t.Errorf("Unset(modle) = %v", err)
	}
	if _, err := os.Stat(filepath.Dir(path)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a rejected Set created files (%v)", err)
	}
}

func TestUnsetAbsentKeyWritesNothing(t *testing.T) {
	path := clitest.Isolate(t)
	c := mustLoad(t)
	if err := c.Unset("model"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Unset on a missing file created it (%v)", err)
	}
	// Setting the value it already has does not rewrite the file either.
	clitest.WriteFile(t, path, "model:   a   # keep my spacing\n")
	if err := mustLoad(t).Set("model", "a"); err != nil {
		t.Fatal(err)
	}
	if got := readConfig(t, path); got != "model:   a   # keep my spacing\n" {
		t.Errorf("no-op Set rewrote the file: %q", got)
	}
}

func TestCommentOnlyFileKeepsComments(t *testing.T) {
	path := clitest.Isolate(t)
	clitest.WriteFile(t, path, "# written by hand\n\n# more\n")
	if err := mustLoad(t).Set("wrap", "72"); err != nil {
		t.Fatal(err)
	}
	if got, want := readConfig(t, path), "# written by hand\n\n# more\n\nwrap: 72\n"; got != want {
		t.Errorf("file = %q, want %q", got, want)
	}
}

func TestLoadFileExplicitPath(t *testing.T) {
	clitest.Isolate(t)
	path := filepath.Join(t.TempDir(), "other.yaml")
	clitest.WriteFile(t, path, "region: cn\n")
	c, err := config.LoadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if v, o := c.Get("region"); v != "cn" || o != config.OriginFile || c.FilePath() != path {
		t.Errorf("LoadFile: region = %q, %s, path %q", v, o, c.FilePath())
	}
}
