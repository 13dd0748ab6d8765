package main_test

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/moonchat/moonchat/cmd/cli"
	gendocs "github.com/moonchat/moonchat/cmd/gendocs"
	"github.com/moonchat/moonchat/pkg/config"
)

// The README is written by hand; these tests keep the parts that mirror the code true: the
// quick start, the config keys, the environment, the exit codes, the commands and the JSON
// schema.

func readme(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// tableRow returns the README table line whose first cell is first, or "".
func tableRow(doc, first string) string {
	for _, line := range strings.Split(doc, "\n") {
		if strings.HasPrefix(line, "| "+first+" |") {
			return line
		}
	}
	return ""
}

func TestReadmeQuickStartComesFirst(t *testing.T) {
	// CI and people copy the first two commands of the first code block.
	doc := readme(t)
	start := strings.Index(doc, "```")
	if start < 0 {
		t.Fatal("README has no code block")
	}
	block := doc[start:]
	block = block[strings.Index(block, "\n")+1:]
	block = block[:strings.Index(block, "```")]
	var commands []string
	for _, line := range strings.Split(block, "\n") {
		if cmd, _, _ := strings.Cut(line, "#"); strings.TrimSpace(cmd) != "" {
			commands = append(commands, strings.TrimSpace(cmd))
		}
	}
	want := []string{`go run . chat --offline "hello"`, `go test ./...`}
	if len(commands) < 2 || commands[0] != want[0] || commands[1] != want[1] {
		t.Fatalf("first code block runs %q, want %q first", commands, want)
	}
}

func TestReadmeListsEveryConfigKey(t *testing.T) {
	doc := readme(t)
	for _, k := range config.Keys() {
		row := tableRow(doc, "`"+k.Name+"`")
		if row == "" {
			t.Errorf("README has no table row for config key %s", k.Name)
			continue
		}
		if k.Default != "" && !strings.Contains(row, "`"+k.Default+"`") {
			t.Errorf("README row of %s lacks its default %q: %s", k.Name, k.Default, row)
		}
		for _, env := range k.Env {
			if !strings.Contains(row, "`"+env+"`") {
				t.Errorf("README row of %s lacks %s: %s", k.Name, env, row)
			}
		}
	}
}

func TestReadmeListsEveryEnvironmentVariable(t *testing.T) {
	doc := readme(t)
	for _, e := range gendocs.Environment() {
		for _, name := range strings.Split(e[0], ", ") {
			if !strings.Contains(doc, "`"+name+"`") {
				t.Errorf("README does not mention %s", name)
			}
		}
	}
	for _, f := range gendocs.Files() {
		if !strings.Contains(doc, "`"+f[0]+"`") {
			t.Errorf("README does not list the file %s", f[0])
		}
	}
}

func TestReadmeExitCodesMatchHelp(t *testing.T) {
	doc := readme(t)
	// ExitStatusHelp wraps long meanings onto indented lines; join them back.
	codeLine := regexp.MustCompile(`^\s+(\d+)\s+(.*)$`)
	meanings := map[string]string{}
	var order []string
	last := ""
	for _, line := range strings.Split(cli.ExitStatusHelp, "\n") {
		if m := codeLine.FindStringSubmatch(line); m != nil {
			last = m[1]
			meanings[last] = m[2]
			order = append(order, last)
			continue
		}
		meanings[last] += " " + strings.TrimSpace(line)
	}
	if len(order) < 8 {
		t.Fatalf("parsed %d exit codes from ExitStatusHelp", len(order))
	}
	for _, code := range order {
		want := "| " + code + " | " + meanings[code] + " |"
		if row := tableRow(doc, code); row != want {
			t.Errorf("README exit code row\n got %q\nwant %q", row, want)
		}
	}
}

func TestReadmeShowsEveryCommand(t *testing.T) {
	doc := readme(t)
	root := newRoot(t)
	for _, c := range root.Commands() {
		if !c.IsAvailableCommand() || c.Name() == "help" {
			continue
		}
		if !strings.Contains(doc, "moonchat "+c.Name()) {
			t.Errorf("README has no example of moonchat %s", c.Name())
		}
	}
}

func TestReadmeMirrorsTheJSONSchema(t *testing.T) {
	doc := readme(t)
	chat, _, err := newRoot(t).Find([]string{"chat"})
	if err != nil {
		t.Fatal(err)
	}
	schema := chat.Annotations[gendocs.SectionAnnotation+"JSON OUTPUT"]
	blocks := strings.Split(schema, "```")
	if len(blocks) < 5 {
		t.Fatalf("chat's JSON OUTPUT section has %d code blocks, want 2", (len(blocks)-1)/2)
	}
	for i := 1; i < len(blocks); i += 2 {
		if !strings.Contains(doc, blocks[i]) {
			t.Errorf("README does not carry this block of cmd/chat/schema.go verbatim:\n%s", blocks[i])
		}
	}
}
