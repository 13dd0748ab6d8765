package main_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
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

// TestMoonchatDoesNotLinkTheDocsGenerator: the markdown-to-roff converter is this program's
// alone; linked into moonchat, its package initialisation would run on every start.
func TestMoonchatDoesNotLinkTheDocsGenerator(t *testing.T) {
	list := exec.Command("go", "list", "-deps", "github.com/moonchat/moonchat")
	list.Env = append(os.Environ(), "CGO_ENABLED=0")
	out, err := list.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 100 || !slices.Contains(deps, "github.com/spf13/cobra") {
		t.Fatalf("go list -deps printed %d packages, not moonchat's dependencies", len(deps))
	}
	for _, dep := range deps {
		for _, banned := range []string{"github.com/cpuguy83/go-md2man", "github.com/russross/blackfriday", "github.com/spf13/cobra/doc", "github.com/moonchat/moonchat/cmd/gendocs"} {
			if strings.HasPrefix(dep, banned) {
				t.Errorf("moonchat links %s", dep)
			}
		}
	}
}
