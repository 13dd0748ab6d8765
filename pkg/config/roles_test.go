package config_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/moonchat/moonchat/internal/clitest"
	"github.com/moonchat/moonchat/pkg/config"
)

func TestRoles(t *testing.T) {
	path := clitest.Isolate(t)
	clitest.WriteFile(t, path, `model: kimi-k2.5
roles:
  reviewer:
    system: |
      You review Go code.
      Bugs first.
    model: kimi-k2.6
    temperature: 0.3
    thinking: false
    tools: tools.json
  k3-quick:
    model: kimi-k3
    reasoning_effort: low
  shell: Answer with one shell command.
`)
	c := mustLoad(t)
	var names []string
	for _, r := range c.Roles() {
		names = append(names, r.Name)
	}
	if strings.Join(names, " ") != "k3-quick reviewer shell" {
		t.Errorf("roles = %q", names)
	}
	r, ok := c.Role("reviewer")
	if !ok || r.System != "You review Go code.\nBugs first.\n" || r.Model != "kimi-k2.6" || r.Temperature == nil || *r.Temperature != 0.3 ||
		r.Thinking == nil || *r.Thinking || r.Tools != "tools.json" || r.Line != 3 {
		t.Errorf("reviewer = %+v", r)
	}
	if r, _ := c.Role("shell"); r.System != "Answer with one shell command." || r.Model != "" || r.Temperature != nil {
		t.Errorf("shell = %+v", r)
	}
	if r, _ := c.Role("k3-quick"); r.ReasoningEffort != "low" || r.System != "" {
		t.Errorf("k3-quick = %+v", r)
	}
	if c.Value("model").Raw != "kimi-k2.5" {
		t.Errorf("the other keys are not read alongside: model = %q", c.Value("model").Raw)
	}
	// A setting written to the file keeps the roles.
	if err := c.Set("temperature", "0.5"); err != nil {
		t.Fatal(err)
	}
	if r, ok := mustLoad(t).Role("reviewer"); !ok || r.Model != "kimi-k2.6" {
		t.Errorf("after config set, reviewer = %+v", r)
	}
}

func TestBadRoles(t *testing.T) {
	path := clitest.Isolate(t)
	for _, c := range []struct{ text, want string }{
		{"roles: hello\n", ":1: roles: expected role names"},
		{"roles:\n  a b: x\n", `:2: roles: "a b" is not a role name`},
		{"roles:\n  r:\n    colour: red\n", `:3: roles: r: unknown setting "colour"`},
		{"roles:\n  r:\n    temperature: hot\n", `:3: roles: r: temperature: "hot" is not a number from 0 to 2`},
		{"roles:\n  r:\n    thinking: maybe\n", `:3: roles: r: thinking: "maybe" is not true or false`},
		{"roles:\n  r:\n    reasoning_effort: huge\n", `:3: roles: r: reasoning_effort: "huge" is not low, high or max`},
		{"roles:\n  r:\n    model: two words\n", `:3: roles: r: model: "two words" contains spaces`},
		{"roles:\n  r: [a]\n", `:2: roles: r: expected a system prompt or settings`},
	} {
		clitest.WriteFile(t, path, c.text)
		_, err := config.Load()
		var fe *config.FileError
		if !errors.As(err, &fe) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: %v, want %q", c.text, err, c.want)
		}
		if err := config.CheckFile(path); err == nil {
			t.Errorf("CheckFile accepted %q", c.text)
		}
	}
}
