package config_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/moonchat/moonchat/internal/clitest"
	"github.com/moonchat/moonchat/pkg/config"
)

func TestMCPServersFromFile(t *testing.T) {
	dir := clitest.Isolate(t)
	path := filepath.Join(dir, "config.yaml")
	clitest.WriteFile(t, path, `model: kimi-k2.6
mcp_servers:
  files:
    command: npx
    args: [-y, "@modelcontextprotocol/server-filesystem", /tmp/notes]
    env:
      LOG_LEVEL: warn
      DEBUG: 1
  issues:
    url: https://mcp.example.com/mcp
    headers: {Authorization: Bearer sekrit}
mcp_default: [files]
allow_tools: [files/read_file, "issues/*", echo]
`)
	c, err := config.LoadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := c.MCPServers()
	if got := s["files"]; got.Command != "npx" || strings.Join(got.Args, " ") != "-y @modelcontextprotocol/server-filesystem /tmp/notes" ||
		got.Env["LOG_LEVEL"] != "warn" || got.Env["DEBUG"] != "1" {
		t.Errorf("files = %+v", got)
	}
	if got := s["issues"]; got.URL != "https://mcp.example.com/mcp" || got.Headers["Authorization"] != "Bearer sekrit" {
		t.Errorf("issues = %+v", got)
	}
	if names := c.MCPServerNames(); strings.Join(names, ",") != "files,issues" {
		t.Errorf("names = %v", names)
	}
	def, err := c.DefaultMCPServers()
	if err != nil || strings.Join(def, ",") != "files" {
		t.Errorf("mcp_default = %v, %v", def, err)
	}
	if got := c.Value("allow_tools").List(); strings.Join(got, ",") != "files/read_file,issues/*,echo" {
		t.Errorf("allow_tools = %v", got)
	}
	// Other keys are untouched, and the servers are not a key of the table.
	if c.Value("model").Raw != "kimi-k2.6" {
		t.Error("model lost")
	}
	for _, v := range c.List(true) {
		if v.Key.Name == config.MCPServersKey {
			t.Error("mcp_servers appears among the scalar keys")
		}
	}
	if err := c.CheckMCPServers([]string{"nope"}, "--mcp"); err == nil ||
		!strings.Contains(err.Error(), `--mcp: no MCP server named "nope" (configured: files, issues in `+path+":2)") {
		t.Errorf("unknown server: %v", err)
	}
	// Setting a scalar key keeps the servers.
	if err := c.Set("model", "kimi-k2.5"); err != nil {
		t.Fatal(err)
	}
	again, err := config.LoadFile(path)
	if err != nil || len(again.MCPServers()) != 2 {
		t.Errorf("after Set: %v, %v", again.MCPServers(), err)
	}
}

func TestMCPConfigErrors(t *testing.T) {
	dir := clitest.Isolate(t)
	path := filepath.Join(dir, "config.yaml")
	for _, tc := range []struct{ text, want string }{
		{"mcp_servers: [a]\n", ":1: mcp_servers: expected a mapping"},
		{"mcp_servers:\n  a b:\n    command: x\n", `:2: mcp_servers: server name "a b"`},
		{"mcp_servers:\n  a:\n    command: x\n    url: http://h\n", ":2: mcp_servers: server a: set either command"},
		{"mcp_servers:\n  a:\n    command: x\n    cmd: y\n", `:4: mcp_servers: server a: unknown field "cmd"`},
		{"mcp_servers:\n  a:\n    command: x\n    args: -y\n", ":4: mcp_servers: server a: args: expected a list"},
		{"mcp_servers:\n  a:\n    command: x\n    env: [A]\n", ":4: mcp_servers: server a: env: expected NAME: value"},
		{"mcp_servers:\n  a:\n    url: ftp://h\n", ":2: mcp_servers: server a: url \"ftp://h\""},
		{"mcp_servers:\n  a:\n    url: http://h\n    headers: {X: {y: 1}}\n", ":4: mcp_servers: server a: headers: X: expected a single value"},
		{"mcp_servers:\n  a:\n    command: x\n  a:\n    command: y\n", ":4: mcp_servers: server a is defined twice"},
		{"mcp_servers:\n  a: x\n", ":2: mcp_servers: server a: expected command"},
		{"mcp_servers: {}\nmcp_servers: {}\n", ":2: mcp_servers is set twice (first on line 1)"},
		{"mcp_default: [a/b]\n", ":1: mcp_default: server name \"a/b\""},
		{"allow_tools: ['*']\n", ":1: allow_tools: allow_tools entry \"*\""},
	} {
		clitest.WriteFile(t, path, tc.text)
		_, err := config.LoadFile(path)
		if err == nil || !strings.Contains(err.Error(), path+tc.want) {
			t.Errorf("%q: %v\nwant %s", tc.text, err, path+tc.want)
		}
	}
	// A secret header value never appears in an error.
	clitest.WriteFile(t, path, "mcp_servers:\n  a:\n    url: http://h\n    headers: {Authorization: \"Bearer sekrit\\r\\nX: y\"}\n")
	if _, err := config.LoadFile(path); err == nil || strings.Contains(err.Error(), "sekrit") {
		t.Errorf("header error: %v", err)
	}
	// mcp_default names must exist in mcp_servers.
	clitest.WriteFile(t, path, "mcp_servers:\n  a:\n    command: x\nmcp_default: a, b\n")
	c, err := config.LoadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.DefaultMCPServers(); err == nil || !strings.Contains(err.Error(), path+`:4: mcp_default: no MCP server named "b"`) {
		t.Errorf("mcp_default: %v", err)
	}
}
