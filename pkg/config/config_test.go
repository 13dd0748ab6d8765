package config_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/moonchat/moonchat/internal/clitest"
	"github.com/moonchat/moonchat/pkg/config"
)

func mustLoad(t *testing.T) *config.Config {
	t.Helper()
	c, err := config.Load()
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return c
}

// Asking for a key that does not exist is a bug in the caller: it must not quietly yield a
// default (as "max_retriess" once did) but stop the test that reaches it.
func TestValueOfAnUnknownKeyPanics(t *testing.T) {
	clitest.Isolate(t)
	c := mustLoad(t)
	for _, name := range []config.Name{"max_retriess", "", "Model"} {
		func() {
			defer func() {
				r := recover()
				if msg, _ := r.(string); !strings.Contains(msg, `unknown key "`+string(name)+`"`) {
					t.Errorf("Value(%q): recovered %v, want a panic naming the key", name, r)
				}
			}()
			v := c.Value(name)
			t.Errorf("Value(%q) returned %+v", name, v)
		}()
	}
	if v := c.Value(config.KeyMaxRetries); v.Key.Name != "max_retries" || v.Int() != 2 {
		t.Errorf("Value(KeyMaxRetries) = %+v (Int %d), want the default 2", v, v.Int())
	}
}

func TestPath(t *testing.T) {
	path := clitest.Isolate(t)
	got, err := config.Path()
	if err != nil || got != path {
		t.Fatalf("Path() = %q, %v; want %q", got, err, path)
	}

	t.Setenv("MOONCHAT_CONFIG", "/somewhere/else.yaml")
	if got, _ := config.Path(); got != "/somewhere/else.yaml" {
		t.Errorf("MOONCHAT_CONFIG ignored: Path() = %q", got)
	}

	// A relative XDG_CONFIG_HOME is invalid per the XDG spec and must not be used.
	t.Setenv("MOONCHAT_CONFIG", "")
	t.Setenv("XDG_CONFIG_HOME", "relative/dir")
	if got, _ := config.Path(); strings.Contains(got, "relative/dir") {
		t.Errorf("relative XDG_CONFIG_HOME used: %q", got)
	}
}

func TestPrecedence(t *testing.T) {
	tests := []struct {
		name       string
		file       string
		env        map[string]string
		flag       string
		wantValue  string
		wantOrigin config.Origin
		wantSource string // "FILE:n" stands for the config path and line n
	}{
		{name: "default", wantValue: "kimi-k2.6", wantOrigin: config.OriginDefault},
		{name: "file", file: "model: moonshot-v1-8k\n", wantValue: "moonshot-v1-8k", wantOrigin: config.OriginFile, wantSource: "FILE:1"},
		{name: "env over file", file: "model: moonshot-v1-8k\n", env: map[string]string{"MOONCHAT_MODEL": "kimi-k2.5"},
			wantValue: "kimi-k2.5", wantOrigin: config.OriginEnv, wantSource: "MOONCHAT_MODEL"},
		{name: "flag over env and file", file: "model: moonshot-v1-8k\n", env: map[string]string{"MOONCHAT_MODEL": "kimi-k2.5"},
			flag: "kimi-k3", wantValue: "kimi-k3", wantOrigin: config.OriginFlag},
		{name: "flag over default", flag: "kimi-k3", wantValue: "kimi-k3", wantOrigin: config.OriginFlag},
		{name: "empty env is unset", file: "# a comment\n\nmodel: moonshot-v1-8k\n", env: map[string]string{"MOONCHAT_MODEL": "  "},
			wantValue: "moonshot-v1-8k", wantOrigin: config.OriginFile, wantSource: "FILE:3"},
		{name: "null in file is unset", file: "model:\n", wantValue: "kimi-k2.6", wantOrigin: config.OriginDefault},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := clitest.Isolate(t)
			if tt.file != "" {
				clitest.WriteFile(t, path, tt.file)
			}
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			c := mustLoad(t)
			if tt.flag != "" {
				if err := c.SetFlag("model", tt.flag); err != nil {
					t.Fatal(err)
				}
			}
			v, o := c.Get("model")
			if v != tt.wantValue || o != tt.wantOrigin {
				t.Errorf("Get(model) = %q, %s; want %q, %s", v, o, tt.wantValue, tt.wantOrigin)
			}
			if v, ok := c.InFile("model"); ok != strings.Contains(tt.file, "model: moonshot-v1-8k") || ok && v != "moonshot-v1-8k" {
				t.Errorf("InFile(model) = %q, %v", v, ok)
			}
			wantSource := strings.Replace(tt.wantSource, "FILE", path, 1)
			if got := c.Value("model").Source; got != wantSource {
				t.Errorf("Source = %q, want %q", got, wantSource)
			}
		})
	}
}

func TestEnvNames(t *testing.T) {
	tests := []struct {
		env        map[string]string
		key        config.Name
		wantValue  string
		wantSource string
	}{
		{map[string]string{"MOONSHOT_API_KEY": "sk-moonshot"}, "api_key", "sk-moonshot", "MOONSHOT_API_KEY"},
		// The moonchat-specific name wins over the generic Moonshot one.
		{map[string]string{"MOONSHOT_API_KEY": "sk-moonshot", "MOONCHAT_API_KEY": "sk-moonchat"}, "api_key", "sk-moonchat", "MOONCHAT_API_KEY"},
		{map[string]string{"MOONSHOT_API_BASE": "http://127.0.0.1:9/v1"}, "api_base", "http://127.0.0.1:9/v1", "MOONSHOT_API_BASE"},
		{map[string]string{"MOONCHAT_MAX_TOKENS": "512"}, "max_tokens", "512", "MOONCHAT_MAX_TOKENS"},
		{map[string]string{"MOONCHAT_SAVE_HISTORY": "no"}, "save_history", "false", "MOONCHAT_SAVE_HISTORY"},
		{map[string]string{"MOONCHAT_STYLE": "Light"}, "style", "light", "MOONCHAT_STYLE"},
		{map[string]string{"MOONCHAT_AUTO_MODELS": " a , b ,"}, "auto_models", "a,b", "MOONCHAT_AUTO_MODELS"},
	}
	for _, tt := range tests {
		t.Run(string(tt.key)+"/"+tt.wantSource, func(t *testing.T) {
			clitest.Isolate(t)
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			v := mustLoad(t).Value(tt.key)
			if v.Raw != tt.wantValue || v.Origin != config.OriginEnv || v.Source != tt.wantSource {
				t.Errorf("Value(%s) = %q %s %q; want %q env %q", tt.key, v.Raw, v.Origin, v.Source, tt.wantValue, tt.wantSource)
			}
		})
	}
}

func TestEnvSnapshotAtLoad(t *testing.T) {
	clitest.Isolate(t)
	t.Setenv("MOONCHAT_MODEL", "kimi-k2.5")
	c := mustLoad(t)
	t.Setenv("MOONCHAT_MODEL", "kimi-k3")
	if v, _ := c.Get("model"); v != "kimi-k2.5" {
		t.Errorf("a Config must see the environment as it was at Load, got %q", v)
	}
}

func TestInvalidEnv(t *testing.T) {
	clitest.Isolate(t)
	t.Setenv("MOONCHAT_TEMPERATURE", "hot")
	_, err := config.Load()
	var ve *config.ValueError
	if !errors.As(err, &ve) {
		t.Fatalf("Load() error = %v, want *ValueError", err)
	}
	if want := `temperature: "hot" is not a number (from $MOONCHAT_TEMPERATURE)`; err.Error() != want {
		t.Errorf("error = %q, want %q", err, want)
	}

	// A secret is never echoed back, even when it is the thing that is wrong.
	t.Setenv("MOONCHAT_TEMPERATURE", "")
	t.Setenv("MOONSHOT_API_KEY", "sk-secret value")
	_, err = config.Load()
	if err == nil || strings.Contains(err.Error(), "secret") {
		t.Errorf("Load() error = %v; want an error that does not contain the key", err)
	}
}

func TestLoadMissingFile(t *testing.T) {
	path := clitest.Isolate(t)
	c := mustLoad(t)
	if c.FilePath() != path {
		t.Errorf("FilePath() = %q, want %q", c.FilePath(), path)
	}
	for _, v := range c.List(true) {
		if v.Origin != config.OriginDefault || v.Raw != v.Key.Default {
			t.Errorf("%s = %q (%s), want the default %q", v.Key.Name, v.Raw, v.Origin, v.Key.Default)
		}
	}
	if _, err := os.Stat(filepath.Dir(path)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Load created %s (err %v)", filepath.Dir(path), err)
	}
}

func TestLoadWithoutHome(t *testing.T) {
	clitest.Isolate(t)
	t.Setenv("HOME", "")
	t.Setenv("XDG_CONFIG_HOME", "")
	t.Setenv("MOONSHOT_API_KEY", "sk-from-the-environment")
	c, err := config.Load()
	if err != nil {
		t.Fatalf("Load() without a home directory must still work from the environment: %v", err)
	}
	if v, o := c.Get("api_key"); v != "sk-from-the-environment" || o != config.OriginEnv {
		t.Errorf("Get(api_key) = %q, %s", v, o)
	}
	if err := c.Set("model", "kimi-k3"); err == nil {
		t.Error("Set without a config location succeeded")
	}
}

func TestFileErrors(t *testing.T) {
	tests := []struct {
		name string
		text string
		want string // after "path:"
	}{
		{"unknown key", "# settings\nmodel: kimi-k2.6\nmodle: kimi-k2.5\n", `3: unknown key "modle" (did you mean "model"?)`},
		{"unknown key without suggestion", "colour: red\n", `1: unknown key "colour"`},
		{"bad value", "model: kimi-k2.6\nformat: text\n\n# hot\ntemperature: hot\n", `5: temperature: "hot" is not a number`},
		{"bad enum", "region: eu\n", `1: region: "eu" is not one of global, cn`},
		{"negative", "max_retries: -1\n", `1: max_retries: "-1" must not be negative`},
		{"syntax error", "model: kimi\n  wrap: 3\n", "2: mapping values are not allowed in this context"},
		{"syntax error on line 1", "[model\n", "1: did not find expected ',' or ']'"},
		{"tab indentation", "model: kimi\n\twrap: 3\n", "2: found a tab character that violates indentation"},
		{"unclosed quote", "model: kimi\napi_base: \"http://x\n", "2: found unexpected end of stream"},
		{"duplicate", "wrap: 1\nmodel: a\nwrap: 2\n", "3: wrap is set twice (first on line 1)"},
		{"not a mapping", "- model\n- wrap\n", `1: expected settings as "key: value" lines`},
		{"nested value", "model:\n  name: x\n", "2: model: expected a single value"},
		{"two documents", "model: a\n---\nmodel: b\n", "2: only one YAML document is allowed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := clitest.Isolate(t)
			clitest.WriteFile(t, path, tt.text)
			_, err := config.Load()
			var fe *config.FileError
			if !errors.As(err, &fe) {
				t.Fatalf("Load() error = %v, want *FileError", err)
			}
			if want := path + ":" + tt.want; err.Error() != want {
				t.Errorf("error = %q\nwant    %q", err, want)
			}
		})
	}
}

func TestUnreadableFile(t *testing.T) {
	path := clitest.Isolate(t)
	if err := os.MkdirAll(path, 0o700); err != nil { // a directory where the file should be
		t.Fatal(err)
	}
	_, err := config.Load()
	var fe *config.FileError
	if !errors.As(err, &fe) || fe.Line != 0 || !strings.HasPrefix(err.Error(), path+": cannot read: ") {
		t.Errorf("Load() error = %v, want %q", err, path+": cannot read: ...")
	}
}

func TestReadNeverRewrites(t *testing.T) {
	for _, text := range []string{"model: a\n", "model: a\nmodle: b\n", "temperature: [\n", "# just a comment\n"} {
		path := clitest.Isolate(t)
		clitest.WriteFile(t, path, text)
		old := time.Now().Add(-time.Hour).Truncate(time.Second)
		if err := os.Chtimes(path, old, old); err != nil {
			t.Fatal(err)
		}
		if c, err := config.Load(); err == nil {
			c.List(true)
			_ = c.SetFlag("model", "x")
		}
		data, _ := os.ReadFile(path)
		info, _ := os.Stat(path)
		if string(data) != text || !info.ModTime().Equal(old) {
			t.Errorf("reading %q changed the file to %q (mtime %v)", text, data, info.ModTime())
		}
		entries, _ := os.ReadDir(filepath.Dir(path))
		if len(entries) != 1 {
			t.Errorf("reading left extra files: %v", entries)
		}
	}
}

func TestSetFlag(t *testing.T) {
	clitest.Isolate(t)
	c := mustLoad(t)
	if err := c.SetFlag("format", "xml"); err == nil || err.Error() != `format: "xml" is not one of auto, markdown, text, json, jsonl` {
		t.Errorf("SetFlag(format, xml) = %v", err)
	}
	if err := c.SetFlag("modle", "x"); !errors.Is(err, config.ErrUnknownKey) {
		t.Errorf("SetFlag(modle) = %v, want ErrUnknownKey", err)
	}
	// An explicit empty flag overrides a configured proxy with none.
	t.Setenv("MOONCHAT_PROXY", "http://proxy.example:3128")
	c = mustLoad(t)
	if err := c.SetFlag("proxy", ""); err != nil {
		t.Fatal(err)
	}
	if v, o := c.Get("proxy"); v != "" || o != config.OriginFlag {
		t.Errorf("Get(proxy) = %q, %s; want empty from the flag", v, o)
	}
	if err := c.SetFlag("temperature", ""); err == nil {
		t.Error("SetFlag(temperature, \"\") accepted an empty number")
	}
}

func TestTypedValues(t *testing.T) {
	path := clitest.Isolate(t)
	clitest.WriteFile(t, path, "temperature: 0\nwrap: 100\nsave_history: off\ntimeout: 90\nauto_models: [a, b]\n")
	c := mustLoad(t)
	if v := c.Value("temperature"); !v.IsSet() || v.Float() != 0 {
		t.Errorf("an explicit temperature 0 must stay set: %+v", v)
	}
	if v := c.Value("max_tokens"); v.IsSet() {
		t.Errorf("max_tokens has no default and must be unset: %+v", v)
	}
	if got := c.Value("wrap").Int(); got != 100 {
		t.Errorf("wrap = %d", got)
	}
	if c.Value("save_history").Bool() {
		t.Error("save_history: off read as true")
	}
	if !c.Value("show_reasoning").IsSet() || c.Value("show_reasoning").Bool() {
		t.Error("show_reasoning must default to false")
	}
	if got := c.Value("timeout").Duration(); got != 90*time.Second {
		t.Errorf("timeout = %v, want a bare number read as seconds", got)
	}
	if got := c.Value("max_retries").Int(); got != 2 {
		t.Errorf("max_retries default = %d", got)
	}
	if got := strings.Join(c.Value("auto_models").List(), " "); got != "a b" {
		t.Errorf("auto_models from a YAML list = %q", got)
	}
}

func TestAPIBase(t *testing.T) {
	clitest.Isolate(t)
	c := mustLoad(t)
	if got := c.APIBase(); got != config.GlobalAPIBase {
		t.Errorf("default APIBase = %q", got)
	}
	if err := c.SetFlag("region", "cn"); err != nil {
		t.Fatal(err)
	}
	if got := c.APIBase(); got != config.ChinaAPIBase {
		t.Errorf("region cn APIBase = %q", got)
	}
	if err := c.SetFlag("api_base", "http://127.0.0.1:8080/v1"); err != nil {
		t.Fatal(err)
	}
	if got := c.APIBase(); got != "http://127.0.0.1:8080/v1" {
		t.Errorf("api_base must win over region: %q", got)
	}
}

func TestList(t *testing.T) {
	clitest.Isolate(t)
	t.Setenv("MOONSHOT_API_KEY", "sk-abcdefghijklmnopqrstuvwxyz0123a1b2")
	t.Setenv("MOONCHAT_PROXY", "http://user:hunter2@proxy.example:3128")
	c := mustLoad(t)
	masked, keys := c.List(false), config.Keys()
	if len(masked) != len(keys) {
		t.Fatalf("List returned %d values, want %d", len(masked), len(keys))
	}
	for i, v := range masked {
		if v.Key.Name != keys[i].Name {
			t.Errorf("List()[%d] = %s, want table order (%s)", i, v.Key.Name, keys[i].Name)
		}
		switch v.Key.Name {
		case "api_key":
			if v.Raw != "sk-…a1b2" || v.Origin != config.OriginEnv {
				t.Errorf("masked api_key = %q (%s)", v.Raw, v.Origin)
			}
		case "proxy":
			if strings.Contains(v.Raw, "hunter2") {
				t.Errorf("proxy password shown: %q", v.Raw)
			}
		}
	}
	for _, v := range c.List(true) {
		if v.Key.Name == "api_key" && v.Raw != "sk-abcdefghijklmnopqrstuvwxyz0123a1b2" {
			t.Errorf("revealed api_key = %q", v.Raw)
		}
		if v.Key.Name == "api_key" && v.String() != "sk-…a1b2" {
			t.Errorf("Value.String() must mask a secret, got %q", v.String())
		}
	}
}

// Load runs on every invocation, so its cost is part of the CLI's start-up time.
func BenchmarkLoad(b *testing.B) {
	dir := b.TempDir()
	path := filepath.Join(dir, "config.yaml")
	text := "# my settings\napi_key: sk-abcdefghijklmnopqrstuvwxyz0123456789\nmodel: kimi-k2.6 # default\n" +
		"temperature: 0.6\nmax_tokens: 4096\nformat: auto\nwrap: 100\nstyle: dark\nsave_history: true\n" +
		"timeout: 10m\nmax_retries: 2\nproxy: socks5h://127.0.0.1:1080\nauto_models: [moonshot-v1-8k, kimi-k2.6]\n"
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		b.Fatal(err)
	}
	b.Setenv("MOONCHAT_CONFIG", path)
	b.Setenv("MOONCHAT_MODEL", "kimi-k3")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := config.Load(); err != nil {
			b.Fatal(err)
		}
	}
}
