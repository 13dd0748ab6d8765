package proxy

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/moonchat/moonchat/pkg/suggest"

	"go.yaml.in/yaml/v3"
)

// Keys the parser knows, per place. Keys listed under ignored are LiteLLM settings that have no
// meaning here: they are accepted with a note, so a LiteLLM file still loads, and never
// silently.
var (
	topKeys   = []string{"model_list", "litellm_settings", "router_settings", "general_settings", "environment_variables"}
	entryKeys = []string{"model_name", "litellm_params", "model_info"}
	paramKeys = []string{"model", "api_key", "api_base", "timeout", "stream_timeout", "rpm", "tpm", "extra_headers", "drop_params", "temperature", "top_p", "max_tokens", "max_completion_tokens", "presence_penalty", "frequency_penalty", "stop", "reasoning_effort", "thinking",
		"weight", "tags", "additional_drop_params", "allowed_openai_params", "input_cost_per_token", "output_cost_per_token", "seed"}
	litellmKeys = []string{"drop_params", "num_retries", "request_timeout", "fallbacks", "context_window_fallbacks", "allowed_fails", "cooldown_time"}
	routerKeys  = []string{"routing_strategy", "num_retries", "allowed_fails", "cooldown_time", "fallbacks", "context_window_fallbacks", "redis_host", "redis_port", "redis_password", "redis_url"}
	generalKeys = []string{"master_key"}
	ignoredKeys = map[string][]string{
		"litellm_settings": {"set_verbose", "json_logs", "telemetry", "success_callback", "failure_callback", "callbacks", "cache", "cache_params"},
		"router_settings":  {"enable_pre_call_checks"},
		"general_settings": {"database_url", "store_model_in_db", "disable_spend_logs", "alerting"},
	}
	keyHints = map[string]string{
		"base_url": "write api_base",
	}
	// refusedParams are LiteLLM keys of litellm_params that moonchat refuses, with the reason.
	refusedParams = map[string]string{
		"max_retries": "the proxy is the only retry loop, as in LiteLLM's router, which sets the provider's max_retries to 0; use litellm_settings.num_retries, which also fails over between deployments",
	}
)

// ParseConfig parses a LiteLLM-style config document; path names it in errors.
func ParseConfig(path string, data []byte, opts LoadOptions) (*Config, error) {
	p := &parser{path: path, offline: opts.Offline, getenv: opts.Getenv, env: map[string]string{}}
	if p.getenv == nil {
		p.getenv = os.Getenv
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &ConfigError{Path: path, Msg: "the file is empty; it needs a model_list"}
		}
		return nil, p.syntaxError(err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		if err != nil {
			return nil, p.syntaxError(err)
		}
		at := &extra
		if len(extra.Content) > 0 {
			at = extra.Content[0]
		}
		return nil, p.errf(at, "only one YAML document is allowed")
	}
	root := resolve(doc.Content[0])
	if root.Kind != yaml.MappingNode {
		return nil, p.errf(root, "expected sections such as model_list: and general_settings:")
	}
	cfg := &Config{NumRetries: DefaultNumRetries, RequestTimeout: DefaultRequestTimeout, RoutingStrategy: RoundRobin}

	sections := map[string]*yaml.Node{}
	kvs, err := p.pairs(root)
	if err != nil {
		return nil, err
	}
	for _, kv := range kvs {
		name := kv[0].Value
		if !slices.Contains(topKeys, name) {
			return nil, p.unknown(kv[0], "section", name, "", topKeys)
		}
		sections[name] = kv[1]
	}
	// environment_variables first: every os.environ/ reference may use them, wherever it is.
	if n := sections["environment_variables"]; n != nil && !isNull(n) {
		if err := p.environment(n); err != nil {
			return nil, err
		}
	}
	if n := sections["litellm_settings"]; n != nil && !isNull(n) {
		if err := p.litellmSettings(n, cfg); err != nil {
			return nil, err
		}
	}
	if n := sections["router_settings"]; n != nil && !isNull(n) {
		if err := p.routerSettings(n, cfg); err != nil {
			return nil, err
		}
	}
	if n := sections["general_settings"]; n != nil && !isNull(n) {
		if err := p.generalSettings(n, cfg); err != nil {
			return nil, err
		}
	}
	list := sections["model_list"]
	if list == nil || isNull(list) {
		return nil, p.errf(root, "model_list is missing: it lists the models to serve (model_name and litellm_params.model: moonshot/<id>)")
	}
	if list.Kind != yaml.SequenceNode || len(list.Content) == 0 {
		return nil, p.errf(list, "model_list must be a non-empty list of entries with model_name and litellm_params")
	}
	ids := map[string]int{}
	for i, item := range list.Content {
		d, err := p.entry(resolve(item), i)
		if err != nil {
			return nil, err
		}
		if line, dup := ids[d.ID]; dup && d.ID != "" {
			return nil, p.errf(resolve(item), "model_info.id %q is also the id of the entry on line %d: each deployment needs its own (it names its rpm/tpm counts and cooldown)", d.ID, line)
		}
		ids[d.ID] = d.Line
		cfg.Deployments = append(cfg.Deployments, d)
	}
	if err := p.checkFallbacks(cfg); err != nil {
		return nil, err
	}
	if !cfg.Redis.Enabled() {
		cfg.Redis.URL = p.lookup("REDIS_URL")
	}
	if cfg.Redis.Enabled() {
		if _, err := redisOptions(cfg.Redis); err != nil {
			return nil, &ConfigError{Path: path, Msg: err.Error()}
		}
	}
	if cfg.MasterKey == "" {
		cfg.MasterKey = MasterKeyFromEnv(p.lookup)
	}
	cfg.Notes = p.notes
	return cfg, nil
}

type parser struct {
	path    string
	offline bool
	getenv  func(string) string
	env     map[string]string // environment_variables, layered over getenv
	notes   []string
	// fallbackLines keep where each fallback was written, for checkFallbacks.
	fallbackLines []fallbackRef
}

func (p *parser) lookup(name string) string {
	if v, ok := p.env[name]; ok {
		return v
	}
	return p.getenv(name)
}

func (p *parser) errf(n *yaml.Node, format string, args ...any) error {
	return &ConfigError{Path: p.path, Line: n.Line, Msg: fmt.Sprintf(format, args...)}
}

func (p *parser) note(n *yaml.Node, format string, args ...any) {
	p.notes = append(p.notes, fmt.Sprintf("%s:%d: ", p.path, n.Line)+fmt.Sprintf(format, args...))
}

func (p *parser) syntaxError(err error) error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	line := 1 // go-yaml leaves the line out when it is the first
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if num, tail, ok := strings.Cut(rest, ": "); ok {
			if n, err := strconv.Atoi(num); err == nil {
				line, msg = n, tail
			}
		}
	}
	return &ConfigError{Path: p.path, Line: line, Msg: msg}
}

// unknown reports a key that is not known at its place, with the closest known one.
func (p *parser) unknown(n *yaml.Node, what, name, where string, known []string) error {
	msg := fmt.Sprintf("unknown %s %q", what, name)
	if where != "" {
		msg += " in " + where
	}
	if hint, ok := keyHints[name]; ok {
		msg += " (" + hint + ")"
	} else if s := suggest.Closest(name, known); s != "" {
		msg += fmt.Sprintf(" (did you mean %q?)", s)
	}
	return p.errf(n, "%s; known: %s", msg, strings.Join(known, ", "))
}

func (p *parser) environment(n *yaml.Node) error {
	if n.Kind != yaml.MappingNode {
		return p.errf(n, "environment_variables must map NAME: value")
	}
	kvs, err := p.pairs(n)
	if err != nil {
		return err
	}
	for _, kv := range kvs {
		v := resolve(kv[1])
		if v.Kind != yaml.ScalarNode {
			return p.errf(v, "environment_variables.%s must be a single value", kv[0].Value)
		}
		if isNull(v) {
			continue
		}
		p.env[kv[0].Value] = v.Value
	}
	return nil
}

func (p *parser) litellmSettings(n *yaml.Node, cfg *Config) error {
	return p.section(n, "litellm_settings", litellmKeys, func(key string, v *yaml.Node) error {
		var err error
		switch key {
		case "drop_params":
			err = p.boolean(v, key, &cfg.DropParams)
		case "num_retries":
			var r *int
			if r, err = p.integer(v, key, 0); err == nil && r != nil {
				cfg.NumRetries = *r
			}
		case "request_timeout":
			err = p.duration(v, key, &cfg.RequestTimeout)
		case "fallbacks", "context_window_fallbacks":
			err = p.fallbacks(v, key, cfg)
		case "allowed_fails":
			var r *int
			if r, err = p.integer(v, key, 1); err == nil && r != nil {
				cfg.AllowedFails = *r
			}
		case "cooldown_time":
			err = p.duration(v, key, &cfg.CooldownTime)
		}
		return err
	})
}

func (p *parser) routerSettings(n *yaml.Node, cfg *Config) error {
	return p.section(n, "router_settings", routerKeys, func(key string, v *yaml.Node) error {
		switch key {
		case "num_retries", "allowed_fails":
			least := 0
			if key == "allowed_fails" {
				least = 1 // 0 would mean LiteLLM's default here
			}
			r, err := p.integer(v, key, least)
			if err != nil || r == nil {
				return err
			}
			if key == "num_retries" {
				cfg.NumRetries = *r
			} else {
				cfg.AllowedFails = *r
			}
			return nil
		case "cooldown_time":
			return p.duration(v, key, &cfg.CooldownTime)
		case "fallbacks", "context_window_fallbacks":
			return p.fallbacks(v, key, cfg)
		case "redis_host", "redis_port", "redis_password", "redis_url":
			s, _, err := p.str(v, key)
			switch key {
			case "redis_host":
				cfg.Redis.Host = s
			case "redis_port":
				cfg.Redis.Port = s
			case "redis_password":
				cfg.Redis.Password = s
			default:
				cfg.Redis.URL = s
			}
			return err
		}
		s, set, err := p.str(v, key)
		if err != nil || !set {
			return err
		}
		switch s {
		case RoundRobin, SimpleShuffle:
			cfg.RoutingStrategy = s
			return nil
		}
		return p.errf(v, "routing_strategy %q is not supported: use %s (the default: deployments in turn) or %s (a random first deployment)", s, RoundRobin, SimpleShuffle)
	})
}

// fallbacks reads LiteLLM's list of one-key mappings: [{"model-a": ["model-b", "model-c"]}].
// The names are checked once the model list is known (checkFallbacks).
func (p *parser) fallbacks(v *yaml.Node, key string, cfg *Config) error {
	if isNull(v) {
		return nil
	}
	dst := &cfg.Fallbacks
	if key == "context_window_fallbacks" {
		dst = &cfg.ContextWindowFallbacks
	}
	if *dst == nil {
		*dst = map[string][]string{}
	}
	form := fmt.Sprintf("%s must be a list of {model_name: [fallback, ...]}, e.g. [{moonshot-v1-8k: [moonshot-v1-32k]}]", key)
	if v.Kind != yaml.SequenceNode {
		return p.errf(v, "%s", form)
	}
	for _, item := range v.Content {
		item = resolve(item)
		if item.Kind != yaml.MappingNode {
			return p.errf(item, "%s", form)
		}
		kvs, err := p.pairs(item)
		if err != nil {
			return err
		}
		for _, kv := range kvs {
			list := resolve(kv[1])
			if list.Kind == yaml.ScalarNode && !isNull(list) {
				list = &yaml.Node{Kind: yaml.SequenceNode, Content: []*yaml.Node{list}, Line: list.Line}
			}
			if list.Kind != yaml.SequenceNode || len(list.Content) == 0 {
				return p.errf(kv[1], "%s", form)
			}
			for _, n := range list.Content {
				s, _, err := p.str(resolve(n), key)
				if err != nil {
					return err
				}
				if s == kv[0].Value {
					return p.errf(n, "%s: %s falls back to itself", key, s)
				}
				(*dst)[kv[0].Value] = append((*dst)[kv[0].Value], s)
			}
			p.fallbackLines = append(p.fallbackLines, fallbackRef{key: key, from: kv[0], to: list.Content})
		}
	}
	return nil
}

type fallbackRef struct {
	key  string
	from *yaml.Node
	to   []*yaml.Node
}

// checkFallbacks refuses a fallback naming a model that is not served: it would never work.
func (p *parser) checkFallbacks(cfg *Config) error {
	served := func(name string) bool {
		for _, d := range cfg.Deployments {
			if d.ModelName == name || (isWildcard(d.ModelName) && matchWildcard(d.ModelName, name) >= 0) {
				return true
			}
		}
		return false
	}
	for _, ref := range p.fallbackLines {
		if !served(ref.from.Value) {
			return p.errf(ref.from, "%s: %q is not a model_name of model_list", ref.key, ref.from.Value)
		}
		for _, n := range ref.to {
			if !served(resolve(n).Value) {
				return p.errf(n, "%s: %q is not a model_name of model_list", ref.key, resolve(n).Value)
			}
		}
	}
	return nil
}

func (p *parser) generalSettings(n *yaml.Node, cfg *Config) error {
	return p.section(n, "general_settings", generalKeys, func(key string, v *yaml.Node) error {
		s, _, err := p.str(v, key)
		cfg.MasterKey = s
		return err
	})
}

// section walks a settings mapping: known keys go to set, LiteLLM keys without an effect here
// become notes, anything else is an error.
func (p *parser) section(n *yaml.Node, name string, known []string, set func(key string, v *yaml.Node) error) error {
	if n.Kind != yaml.MappingNode {
		return p.errf(n, "%s must be a mapping of settings", name)
	}
	kvs, err := p.pairs(n)
	if err != nil {
		return err
	}
	for _, kv := range kvs {
		key := kv[0].Value
		switch {
		case slices.Contains(known, key):
			if err := set(key, resolve(kv[1])); err != nil {
				return err
			}
		case slices.Contains(ignoredKeys[name], key):
			p.note(kv[0], "%s.%s is a LiteLLM setting that moonchat serve does not use; ignored", name, key)
		default:
			return p.unknown(kv[0], "setting", key, name, known)
		}
	}
	return nil
}
