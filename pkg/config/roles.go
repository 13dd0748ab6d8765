package config

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"go.yaml.in/yaml/v3"
)

// rolesKey is the config file's mapping of role names to their settings. It is not in the
// key table: its value is a mapping, not one value an environment variable or a flag could
// give, so it is edited in the file (`moonchat config edit`).
const rolesKey = "roles"

// Role is a named set of chat settings: a system prompt and, optionally, a model, a
// temperature, the thinking switch, kimi-k3's reasoning effort and a tools file. chat -r NAME
// and /role NAME in the session apply one; flags given with -r still win.
//
//	roles:
//	  reviewer:
//	    system: You review Go code. Point out bugs first, then style.
//	    model: kimi-k2.6
//	    temperature: 0.3
//	    thinking: false
//	  shell: Answer with one POSIX shell command and nothing else.
//
// A role given as a single string is just its system prompt.
type Role struct {
	Name            string
	System          string
	Model           string
	Temperature     *float64
	Thinking        *bool // false: answer without thinking (--no-thinking)
	ReasoningEffort string
	Tools           string // path of a tools JSON file (--tools)
	Line            int    // where the role starts in the config file
}

// roleFields are the settings a role may have, in the order `roles list` describes them.
var roleFields = []string{"system", "model", "temperature", "thinking", "reasoning_effort", "tools"}

// maxRoles bounds the roles read from a file: each is parsed on every run.
const maxRoles = 1000

// Roles returns the roles of the config file, sorted by name.
func (c *Config) Roles() []Role {
	out := make([]Role, 0, len(c.roles))
	for _, r := range c.roles {
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b Role) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// Role returns the role called name.
func (c *Config) Role(name string) (Role, bool) {
	r, ok := c.roles[name]
	return r, ok
}

// rolesOf finds the roles mapping in a parsed, already validated document.
func rolesOf(path string, doc *yaml.Node) map[string]Role {
	if doc == nil || len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return nil
	}
	root := doc.Content[0]
	for i := 0; i+1 < len(root.Content); i += 2 {
		if root.Content[i].Value == rolesKey {
			roles, _ := parseRoles(path, resolveAlias(root.Content[i+1]))
			return roles
		}
	}
	return nil
}

// parseRoles reads and checks the value of roles:.
func parseRoles(path string, n *yaml.Node) (map[string]Role, error) {
	fail := func(line int, format string, args ...any) error {
		return &FileError{Path: path, Line: line, Msg: fmt.Sprintf(format, args...)}
	}
	if isNull(n) {
		return nil, nil
	}
	if n.Kind != yaml.MappingNode {
		return nil, fail(n.Line, "roles: expected role names, each with a system prompt or settings")
	}
	if len(n.Content)/2 > maxRoles {
		return nil, fail(n.Line, "roles: more than %d roles", maxRoles)
	}
	roles := map[string]Role{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		kn, vn := n.Content[i], resolveAlias(n.Content[i+1])
		name := kn.Value
		if kn.Kind != yaml.ScalarNode || !validRoleName(name) {
			return nil, fail(kn.Line, "roles: %q is not a role name (letters, digits, - and _)", name)
		}
		if prev, dup := roles[name]; dup {
			return nil, fail(kn.Line, "roles: %s is defined twice (first on line %d)", name, prev.Line)
		}
		r := Role{Name: name, Line: kn.Line}
		switch vn.Kind {
		case yaml.ScalarNode:
			r.System = vn.Value
		case yaml.MappingNode:
			if err := r.read(vn, func(line int, msg string) error { return fail(line, "roles: %s: %s", name, msg) }); err != nil {
				return nil, err
			}
		default:
			return nil, fail(vn.Line, "roles: %s: expected a system prompt or settings (%s)", name, strings.Join(roleFields, ", "))
		}
		roles[name] = r
	}
	return roles, nil
}

func (r *Role) read(n *yaml.Node, fail func(line int, msg string) error) error {
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		kn, vn := n.Content[i], resolveAlias(n.Content[i+1])
		field := kn.Value
		if seen[field] {
			return fail(kn.Line, field+" is set twice")
		}
		seen[field] = true
		if vn.Kind != yaml.ScalarNode {
			return fail(vn.Line, field+": expected a single value")
		}
		v := strings.TrimSpace(vn.Value)
		switch field {
		case "system", "prompt":
			r.System = vn.Value
		case "model":
			if err := validateWord(v); err != nil {
				return fail(vn.Line, "model: "+err.Error())
			}
			r.Model = v
		case "temperature":
			t, err := strconv.ParseFloat(v, 64)
			if err != nil || t < 0 || t > 2 {
				return fail(vn.Line, fmt.Sprintf("temperature: %q is not a number from 0 to 2", v))
			}
			r.Temperature = &t
		case "thinking":
			b, ok := parseBool(v)
			if !ok {
				return fail(vn.Line, fmt.Sprintf("thinking: %q is not true or false", v))
			}
			r.Thinking = &b
		case "reasoning_effort":
			if v != "low" && v != "high" && v != "max" {
				return fail(vn.Line, fmt.Sprintf("reasoning_effort: %q is not low, high or max", v))
			}
			r.ReasoningEffort = v
		case "tools":
			r.Tools = v
		default:
			return fail(kn.Line, fmt.Sprintf("unknown setting %q (a role takes %s)", field, strings.Join(roleFields, ", ")))
		}
	}
	return nil
}

func validRoleName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '-' && r != '_' {
			return false
		}
	}
	return true
}
