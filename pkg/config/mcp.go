package config

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/moonchat/moonchat/pkg/mcphost"
)

// MCPServersKey is the config file's table of MCP servers. It is not in the key table: a map of
// servers is neither a flag nor an environment variable, so it lives in the file only:
//
//	mcp_servers:
//	  files:
//	    command: npx
//	    args: [-y, "@modelcontextprotocol/server-filesystem", /home/me/notes]
//	    env: {LOG_LEVEL: warn}
//	  issues:
//	    url: https://mcp.example.com/mcp
//	    headers: {Authorization: Bearer ...}
const MCPServersKey = "mcp_servers"

// parseMCPServers validates the mcp_servers mapping of the file and stores it, as JSON, among
// the file's values. Errors name the file and line; they never show env or header values,
// which are often secrets.
func parseMCPServers(path string, kn, vn *yaml.Node, values map[string]fileValue) error {
	fail := func(n *yaml.Node, format string, args ...any) error {
		return &FileError{Path: path, Line: n.Line, Msg: MCPServersKey + ": " + fmt.Sprintf(format, args...)}
	}
	if prev, dup := values[MCPServersKey]; dup {
		return &FileError{Path: path, Line: kn.Line, Msg: fmt.Sprintf("%s is set twice (first on line %d)", MCPServersKey, prev.line)}
	}
	if isNull(vn) {
		return nil
	}
	if vn.Kind != yaml.MappingNode {
		return fail(vn, "expected a mapping of server names to {command, args, env} or {url, headers}")
	}
	servers := map[string]mcphost.ServerConfig{}
	for i := 0; i+1 < len(vn.Content); i += 2 {
		nameNode, body := vn.Content[i], resolveAlias(vn.Content[i+1])
		name := nameNode.Value
		if err := mcphost.ValidName(name); err != nil {
			return fail(nameNode, "%v", err)
		}
		if _, dup := servers[name]; dup {
			return fail(nameNode, "server %s is defined twice", name)
		}
		if body.Kind != yaml.MappingNode {
			return fail(body, "server %s: expected command (and args, env) or url (and headers)", name)
		}
		var sc mcphost.ServerConfig
		seen := map[string]bool{}
		for j := 0; j+1 < len(body.Content); j += 2 {
			fn, fv := body.Content[j], resolveAlias(body.Content[j+1])
			field := fn.Value
			if seen[field] {
				return fail(fn, "server %s: %s is set twice", name, field)
			}
			seen[field] = true
			var err error
			switch field {
			case "command":
				sc.Command, err = yamlString(fv)
			case "url":
				sc.URL, err = yamlString(fv)
			case "args":
				sc.Args, err = yamlStrings(fv)
			case "env":
				sc.Env, err = yamlStringMap(fv)
			case "headers":
				sc.Headers, err = yamlStringMap(fv)
			default:
				return fail(fn, "server %s: unknown field %q (expected command, args, env, url or headers)", name, field)
			}
			if err != nil {
				return fail(fv, "server %s: %s: %v", name, field, err)
			}
		}
		if err := sc.Validate(); err != nil {
			return fail(nameNode, "server %s: %v", name, err)
		}
		servers[name] = sc
	}
	data, err := json.Marshal(servers)
	if err != nil {
		return fail(vn, "%v", err)
	}
	values[MCPServersKey] = fileValue{value: string(data), line: kn.Line}
	return nil
}

func yamlString(n *yaml.Node) (string, error) {
	if n.Kind != yaml.ScalarNode || isNull(n) {
		return "", fmt.Errorf("expected a single value")
	}
	return n.Value, nil
}

func yamlStrings(n *yaml.Node) ([]string, error) {
	if n.Kind != yaml.SequenceNode {
		return nil, fmt.Errorf("expected a list, e.g. [-y, some-package]")
	}
	out := make([]string, 0, len(n.Content))
	for _, item := range n.Content {
		s, err := yamlString(resolveAlias(item))
		if err != nil {
			return nil, fmt.Errorf("item %d: %v", len(out)+1, err)
		}
		out = append(out, s)
	}
	return out, nil
}

func yamlStringMap(n *yaml.Node) (map[string]string, error) {
	if n.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("expected NAME: value lines")
	}
	out := map[string]string{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i].Value
		v, err := yamlString(resolveAlias(n.Content[i+1]))
		if err != nil {
			return nil, fmt.Errorf("%s: %v", k, err)
		}
		if _, dup := out[k]; dup {
			return nil, fmt.Errorf("%s is set twice", k)
		}
		out[k] = v
	}
	return out, nil
}

// MCPServers returns the servers of the config file's mcp_servers (none when it has none).
func (c *Config) MCPServers() map[string]mcphost.ServerConfig {
	out := map[string]mcphost.ServerConfig{}
	if f, ok := c.file[MCPServersKey]; ok {
		// Stored by parseMCPServers from a validated value: it decodes.
		_ = json.Unmarshal([]byte(f.value), &out)
	}
	return out
}

// MCPServerNames returns the configured servers' names, sorted.
func (c *Config) MCPServerNames() []string {
	return slices.Sorted(maps.Keys(c.MCPServers()))
}

// CheckMCPServers checks that every name is a configured server (for mcp_default and --mcp),
// naming where the list came from when it is wrong.
func (c *Config) CheckMCPServers(names []string, from string) error {
	servers := c.MCPServers()
	for _, n := range names {
		if _, ok := servers[n]; ok {
			continue
		}
		known := c.MCPServerNames()
		where := "no mcp_servers are configured"
		if len(known) > 0 {
			where = "configured: " + strings.Join(known, ", ")
		}
		if f, ok := c.file[MCPServersKey]; ok {
			where += " in " + c.path + ":" + strconv.Itoa(f.line)
		} else if c.path != "" {
			where += " (add them to " + c.path + ")"
		}
		return fmt.Errorf("%s: no MCP server named %q (%s)", from, n, where)
	}
	return nil
}

// DefaultMCPServers is mcp_default, checked against mcp_servers.
func (c *Config) DefaultMCPServers() ([]string, error) {
	v := c.Value(KeyMCPDefault)
	names := v.List()
	from := "mcp_default"
	if v.Source != "" {
		from = v.Source + ": mcp_default"
	}
	if err := c.CheckMCPServers(names, from); err != nil {
		return nil, err
	}
	return names, nil
}

var (
	validateServerNames = eachItem(mcphost.ValidName)
	validateAllowTools  = eachItem(mcphost.ParseAllowEntry)
)
