package proxy

import (
	"math"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// scalar returns a value's text with an os.environ/NAME reference resolved. set is false for a
// null (an absent value).
func (p *parser) scalar(v *yaml.Node, name string) (s string, set bool, err error) {
	if isNull(v) {
		return "", false, nil
	}
	if v.Kind != yaml.ScalarNode {
		return "", false, p.errf(v, "%s must be a single value", name)
	}
	s = v.Value
	// Quoted or not, as in LiteLLM, which sees the string after YAML has parsed it.
	if env, ok := strings.CutPrefix(s, EnvPrefix); ok {
		if env == "" {
			return "", false, p.errf(v, "%s: %s needs a variable name, e.g. %sMOONSHOT_API_KEY", name, EnvPrefix, EnvPrefix)
		}
		s = p.lookup(env)
		if s == "" {
			return "", false, p.errf(v, "%s: environment variable %s is not set (%s%s)", name, env, EnvPrefix, env)
		}
	}
	return s, true, nil
}

func (p *parser) str(v *yaml.Node, name string) (string, bool, error) {
	return p.scalar(v, name)
}

func (p *parser) boolean(v *yaml.Node, name string, dst *bool) error {
	s, set, err := p.scalar(v, name)
	if err != nil || !set {
		return err
	}
	switch strings.ToLower(s) {
	case "true", "yes", "on":
		*dst = true
	case "false", "no", "off":
		*dst = false
	default:
		return p.errf(v, "%s: %q is not true or false", name, s)
	}
	return nil
}

func (p *parser) number(v *yaml.Node, name string) (*float64, error) {
	s, set, err := p.scalar(v, name)
	if err != nil || !set {
		return nil, err
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return nil, p.errf(v, "%s: %q is not a number", name, s)
	}
	return &f, nil
}

func (p *parser) integer(v *yaml.Node, name string, least int) (*int, error) {
	s, set, err := p.scalar(v, name)
	if err != nil || !set {
		return nil, err
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return nil, p.errf(v, "%s: %q is not a whole number", name, s)
	}
	if n < least {
		return nil, p.errf(v, "%s must be at least %d, not %d", name, least, n)
	}
	return &n, nil
}

// duration reads seconds as LiteLLM writes them (600, 2.5) or a Go duration ("10m").
func (p *parser) duration(v *yaml.Node, name string, dst *time.Duration) error {
	s, set, err := p.scalar(v, name)
	if err != nil || !set {
		return err
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		if f <= 0 || math.IsInf(f, 0) || math.IsNaN(f) || f > math.MaxInt64/float64(time.Second) {
			return p.errf(v, "%s must be a positive number of seconds, not %s", name, s)
		}
		*dst = time.Duration(f * float64(time.Second))
		return nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return p.errf(v, "%s: %q is not a duration (seconds, e.g. 600, or 10m)", name, s)
	}
	*dst = d
	return nil
}

func resolve(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// pairs returns the key and value nodes of a mapping; a key given twice is an error, as it is
// in LiteLLM's YAML loader.
func (p *parser) pairs(n *yaml.Node) ([][2]*yaml.Node, error) {
	out := make([][2]*yaml.Node, 0, len(n.Content)/2)
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		if k.Kind != yaml.ScalarNode {
			return nil, p.errf(k, "expected a name before the colon")
		}
		if line, dup := seen[k.Value]; dup {
			return nil, p.errf(k, "%s is given twice (first on line %d)", k.Value, line)
		}
		seen[k.Value] = k.Line
		out = append(out, [2]*yaml.Node{k, n.Content[i+1]})
	}
	return out, nil
}
