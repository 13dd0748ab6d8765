package gendocs_test

import (
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// TestHomebrewCaskListsEveryManPage keeps .goreleaser.yaml's cask in step with the commands:
// the cask names its man pages one by one, so a new command must be added there too.
func TestHomebrewCaskListsEveryManPage(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", ".goreleaser.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	_, cask, ok := strings.Cut(string(data), "\nhomebrew_casks:")
	if !ok {
		t.Fatal(".goreleaser.yaml has no homebrew_casks section")
	}
	var listed []string
	for _, m := range regexp.MustCompile(`(?m)^\s+- man/(\S+\.1)$`).FindAllStringSubmatch(cask, -1) {
		listed = append(listed, m[1])
	}
	var generated []string
	for path := range generate(t) {
		if strings.HasPrefix(path, "man"+string(filepath.Separator)) {
			generated = append(generated, filepath.Base(path))
		}
	}
	sort.Strings(listed)
	sort.Strings(generated)
	if strings.Join(listed, " ") != strings.Join(generated, " ") {
		t.Fatalf(".goreleaser.yaml homebrew_casks manpages:\n  %v\nman pages generated:\n  %v", listed, generated)
	}
}
