package config_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/moonchat/moonchat/internal/clitest"
	"github.com/moonchat/moonchat/pkg/config"
)

func TestTemplateIsAValidEmptyConfig(t *testing.T) {
	path := clitest.Isolate(t)
	created, err := config.CreateFile(path)
	if err != nil || !created {
		t.Fatalf("CreateFile = %v, %v", created, err)
	}
	if err := config.CheckFile(path); err != nil {
		t.Fatalf("the template does not parse: %v", err)
	}
	c := mustLoad(t)
	for _, v := range c.List(true) {
		if v.Origin != config.OriginDefault {
			t.Errorf("%s comes from %s: the template must set nothing", v.Key.Name, v.Origin)
		}
	}
	text := readConfig(t, path)
	for _, k := range config.Keys() {
		if !strings.Contains(text, "\n#"+k.Name+":") || !strings.Contains(text, k.Description) {
			t.Errorf("template does not document %s", k.Name)
		}
	}
	// Uncommenting a line is all it takes to set a key.
	edited := strings.Replace(text, "#model: kimi-k2.6", "model: kimi-k2.5", 1)
	clitest.WriteFile(t, path, edited)
	if v, o := mustLoad(t).Get("model"); v != "kimi-k2.5" || o != config.OriginFile {
		t.Errorf("after uncommenting, model = %q from %s", v, o)
	}
	// Setting a key keeps the template's comments, blank lines included.
	clitest.WriteFile(t, path, text)
	if err := mustLoad(t).Set("wrap", "100"); err != nil {
		t.Fatal(err)
	}
	if got := readConfig(t, path); !strings.HasPrefix(got, text) || !strings.HasSuffix(got, "\n\nwrap: 100\n") {
		t.Errorf("after Set:\n%s", got)
	}
}

func TestCreateFileKeepsExistingFile(t *testing.T) {
	path := clitest.Isolate(t)
	clitest.WriteFile(t, path, "model: moonshot-v1-8k\n")
	created, err := config.CreateFile(path)
	if err != nil || created {
		t.Fatalf("CreateFile over an existing file = %v, %v", created, err)
	}
	if got := readConfig(t, path); got != "model: moonshot-v1-8k\n" {
		t.Errorf("existing file changed: %q", got)
	}
}

func TestCheckFile(t *testing.T) {
	dir := t.TempDir()
	if err := config.CheckFile(filepath.Join(dir, "missing.yaml")); err != nil {
		t.Errorf("missing file: %v", err)
	}
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("model: kimi-k2.6\nmodle: x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var fe *config.FileError
	if err := config.CheckFile(bad); !errors.As(err, &fe) || fe.Line != 2 || !strings.Contains(err.Error(), `did you mean "model"`) {
		t.Errorf("CheckFile = %v", err)
	}
	// The environment plays no part: an invalid variable does not make the file invalid.
	t.Setenv("MOONCHAT_TEMPERATURE", "hot")
	if err := config.CheckFile(filepath.Join(dir, "missing.yaml")); err != nil {
		t.Errorf("CheckFile read the environment: %v", err)
	}
}
