package main_test

import (
	"bytes"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/moonchat/moonchat/cmd"
	"github.com/moonchat/moonchat/cmd/cli"
	gendocs "github.com/moonchat/moonchat/cmd/gendocs"
	"github.com/moonchat/moonchat/pkg/iostreams"
)

// newRoot builds the real command tree with test streams and no access to the user's files.
func newRoot(t *testing.T) *cobra.Command {
	t.Helper()
	dir := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(dir, "config"))
	t.Setenv("XDG_DATA_HOME", filepath.Join(dir, "data"))
	t.Setenv("XDG_CACHE_HOME", filepath.Join(dir, "cache"))
	t.Setenv("MOONCHAT_CONFIG", "")
	ios, _, _, _ := iostreams.Test()
	return cmd.NewCmdRoot(cli.New(ios))
}

// generate runs gendocs into a fresh directory and returns every file it wrote, by relative path.
func generate(t *testing.T) map[string][]byte {
	t.Helper()
	dir := t.TempDir()
	if err := gendocs.Generate(newRoot(t), dir); err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		files[filepath.ToSlash(rel)] = data
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// visible returns every command a user can see, the root included, skipping help.
func visible(root *cobra.Command) []*cobra.Command {
	var out []*cobra.Command
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if c != root && (!c.IsAvailableCommand() || c.Name() == "help") {
			return
		}
		out = append(out, c)
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
	return out
}

func TestGenerateIsDeterministic(t *testing.T) {
	first, second := generate(t), generate(t)
	if len(first) == 0 {
		t.Fatal("nothing generated")
	}
	if len(first) != len(second) {
		t.Fatalf("first run wrote %d files, second %d", len(first), len(second))
	}
	for name, data := range first {
		if !bytes.Equal(data, second[name]) {
			t.Errorf("%s differs between two runs", name)
		}
	}
}

func TestGenerateIsIdempotentInPlace(t *testing.T) {
	// CI regenerates over the committed files: a second run over the first must change nothing
	// and remove nothing.
	dir := t.TempDir()
	if err := gendocs.Generate(newRoot(t), dir); err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, dir)
	if err := gendocs.Generate(newRoot(t), dir); err != nil {
		t.Fatal(err)
	}
	after := snapshot(t, dir)
	if len(before) != len(after) {
		t.Fatalf("%d files before, %d after", len(before), len(after))
	}
	for name, data := range before {
		if !bytes.Equal(data, after[name]) {
			t.Errorf("%s changed on regeneration", name)
		}
	}
}

func snapshot(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	for _, sub := range []string{"completions", "man"} {
		entries, err := os.ReadDir(filepath.Join(dir, sub))
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			data, err := os.ReadFile(filepath.Join(dir, sub, e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			out[sub+"/"+e.Name()] = data
		}
	}
	return out
}

func TestGenerateRemovesPagesOfRemovedCommands(t *testing.T) {
	dir := t.TempDir()
	stale := filepath.Join(dir, "man", "moonchat-gone.1")
	if err := os.MkdirAll(filepath.Dir(stale), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(stale, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := gendocs.Generate(newRoot(t), dir); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Fatalf("stale page kept: %v", err)
	}
}

func TestEveryCommandHasAManPage(t *testing.T) {
	files := generate(t)
	root := newRoot(t)
	want := map[string]bool{}
	for _, c := range visible(root) {
		page := "man/" + strings.ReplaceAll(c.CommandPath(), " ", "-") + ".1"
		want[page] = true
		if _, ok := files[page]; !ok {
			t.Errorf("no man page %s for %q", page, c.CommandPath())
		}
	}
	for name := range files {
		if strings.HasPrefix(name, "man/") && !want[name] {
			t.Errorf("man page %s belongs to no visible command", name)
		}
	}
	for _, hidden := range []string{"man/moonchat-help.1", "man/moonchat-completion.1"} {
		if _, ok := files[hidden]; ok {
			t.Errorf("%s generated for a hidden command", hidden)
		}
	}
}

func TestManPagesHaveTheRequiredSections(t *testing.T) {
	files := generate(t)
	var pages []string
	for name := range files {
		if strings.HasPrefix(name, "man/") {
			pages = append(pages, name)
		}
	}
	sort.Strings(pages)
	for _, name := range pages {
		page := string(files[name])
		for _, section := range []string{".TH ", "NAME", "SYNOPSIS", "DESCRIPTION", "EXAMPLES", "EXIT STATUS", "ENVIRONMENT", "FILES"} {
			if !strings.Contains(page, section) {
				t.Errorf("%s lacks %s", name, section)
			}
		}
		if strings.Contains(strings.ToLower(page), "auto generated") {
			t.Errorf("%s carries an auto-generated tag", name)
		}
		// Fixed date: nothing that depends on the day it was generated.
		if !strings.Contains(page, `"November 2026"`) {
			t.Errorf("%s does not carry the fixed date", name)
		}
		for _, variable := range []string{"MOONSHOT_API_KEY", "NO_PROXY", "XDG_CONFIG_HOME"} {
			if !strings.Contains(page, variable) {
				t.Errorf("%s: ENVIRONMENT does not mention %s", name, variable)
			}
		}
	}
	chat := string(files["man/moonchat-chat.1"])
	for _, want := range []string{"JSON OUTPUT", "conversation_id", "exit_code", "elapsed_ms"} {
		if !strings.Contains(chat, want) {
			t.Errorf("moonchat-chat.1 lacks %q", want)
		}
	}
}

func TestCompletionsForEveryShell(t *testing.T) {
	files := generate(t)
	markers := map[string]string{
		"completions/moonchat.bash": "complete -o default -F __start_moonchat moonchat",
		"completions/moonchat.zsh":  "#compdef moonchat",
		"completions/moonchat.fish": "complete -c moonchat",
		"completions/moonchat.ps1":  "Register-ArgumentCompleter",
	}
	for name, marker := range markers {
		data, ok := files[name]
		if !ok {
			t.Errorf("%s not generated", name)
			continue
		}
		if len(data) < 1000 {
			t.Errorf("%s is only %d bytes", name, len(data))
		}
		if !strings.Contains(string(data), marker) {
			t.Errorf("%s lacks %q", name, marker)
		}
	}
	var comps int
	for name := range files {
		if strings.HasPrefix(name, "completions/") {
			comps++
		}
	}
	if comps != len(markers) {
		t.Errorf("%d completion files, want %d", comps, len(markers))
	}
}

// Help is data: every visible command explains itself and shows how it is used, so the man
// pages and completions generated from it are complete.
func TestEveryCommandHasShortLongAndExample(t *testing.T) {
	for _, c := range visible(newRoot(t)) {
		path := c.CommandPath()
		if strings.TrimSpace(c.Short) == "" {
			t.Errorf("%q has no Short", path)
		}
		if strings.TrimSpace(c.Long) == "" {
			t.Errorf("%q has no Long", path)
		}
		if strings.TrimSpace(c.Example) == "" {
			t.Errorf("%q has no Example", path)
			continue
		}
		// Examples run the command they document, so a copied line works.
		if !strings.Contains(c.Example, path) {
			t.Errorf("%q: no example runs %q:\n%s", path, path, c.Example)
		}
	}
}

func TestSynopsisKeepsPlaceholders(t *testing.T) {
	// Markdown would read <key> as an HTML tag and drop it from the page.
	files := generate(t)
	for page, want := range map[string]string{
		"man/moonchat.1":            `\fBmoonchat <command> [flags]\fP`,
		"man/moonchat-config-get.1": `\fBmoonchat config get <key> [flags]\fP`,
		"man/moonchat-chat.1":       `\fBmoonchat chat [flags] [PROMPT...]\fP`,
	} {
		if !strings.Contains(string(files[page]), want) {
			t.Errorf("%s: SYNOPSIS is not %s", page, want)
		}
	}
}
