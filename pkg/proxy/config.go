package proxy

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/moonchat/moonchat/pkg/moonshot"
)

// Config is what the proxy serves: LiteLLM's config.yaml once parsed (ParseConfig), or one
// built in code (`moonchat serve` without --config).
type Config struct {
	// Deployments in file order. Several with one ModelName form a group that is balanced and
	// fails over.
	Deployments []Deployment
	// MasterKey, when set, is required on every route but the health checks.
	MasterKey string
	// DropParams removes the request fields Moonshot does not know (litellm_settings.drop_params).
	DropParams bool
	// NumRetries is how many more attempts a failed request gets, moving through the group's
	// deployments (litellm_settings.num_retries).
	NumRetries int
	// RequestTimeout bounds each upstream attempt until its answer begins (streams) or ends
	// (litellm_settings.request_timeout); a deployment's own timeout wins.
	RequestTimeout time.Duration
	// RoutingStrategy picks the first deployment of a group: RoundRobin or SimpleShuffle.
	RoutingStrategy string
	// Notes are settings that were accepted but have no effect here; `serve` prints them.
	Notes []string
}

// Routing strategies (router_settings.routing_strategy).
const (
	RoundRobin    = "round-robin"
	SimpleShuffle = "simple-shuffle"
)

// Defaults of a configuration file that leaves them out.
const (
	DefaultNumRetries     = 2
	DefaultRequestTimeout = 10 * time.Minute
)

// Deployment is one entry of model_list: a public model name served by one Moonshot model with
// one key.
type Deployment struct {
	ModelName string // what clients ask for
	Model     string // the Moonshot model id ("moonshot/" removed)
	APIKey    string
	APIBase   string
	// Timeout bounds an attempt (0 = Config.RequestTimeout); StreamTimeout, when set, replaces it
	// for streamed requests, where it bounds the wait for the answer to begin.
	Timeout, StreamTimeout time.Duration
	// RPM and TPM are accepted for LiteLLM compatibility and not enforced.
	RPM, TPM     int
	ExtraHeaders map[string]string
	// DropParams overrides Config.DropParams for this deployment when set.
	DropParams *bool
	// Defaults fill the request fields the client left out.
	Defaults Defaults
	// Remote is the server's description of the model (GET /models), when known; it refines
	// the parameter fixes.
	Remote *moonshot.RemoteModel
	// Line is the entry's line in the config file (0 when built in code).
	Line int
}

// Defaults are request parameters a deployment applies when the client did not set them
// (LiteLLM merges litellm_params the same way: the client's value wins).
type Defaults struct {
	Temperature, TopP, PresencePenalty, FrequencyPenalty *float64
	// MaxTokens and MaxCompletionTokens are one budget: neither is applied when the client set
	// either.
	MaxTokens, MaxCompletionTokens *int
	Stop                           []string
	ReasoningEffort                string
	Thinking                       *moonshot.Thinking
}

// ConfigError is a problem in the config file, printed as "path:line: problem". Its exit code
// is 2 (a configuration error).
type ConfigError struct {
	Path string
	Line int
	Msg  string
}

func (e *ConfigError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.Path, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.Path, e.Msg)
}

// ExitCode makes a bad config file exit 2, like every configuration error.
func (e *ConfigError) ExitCode() int { return 2 }

// LoadOptions tune LoadConfig and ParseConfig.
type LoadOptions struct {
	// Getenv reads the environment (nil = os.Getenv). environment_variables from the file are
	// layered over it; the process environment is never modified.
	Getenv func(string) string
	// Offline leaves api_key and api_base unresolved (empty): the caller points every deployment
	// at the emulator, so no key or variable is needed.
	Offline bool
}

// LoadConfig reads and parses a LiteLLM-style config file.
func LoadConfig(path string, opts LoadOptions) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, &ConfigError{Path: path, Msg: "cannot read: " + err.Error()}
	}
	return ParseConfig(path, data, opts)
}

// MasterKeyFromEnv is the master key given by the environment: MOONCHAT_MASTER_KEY, else
// LITELLM_MASTER_KEY (for configurations moved from LiteLLM).
func MasterKeyFromEnv(getenv func(string) string) string {
	if getenv == nil {
		getenv = os.Getenv
	}
	if k := getenv("MOONCHAT_MASTER_KEY"); k != "" {
		return k
	}
	return getenv("LITELLM_MASTER_KEY")
}

// EnvPrefix marks a value read from the environment: "os.environ/NAME".
const EnvPrefix = "os.environ/"

// Keys the parser knows, per place. Keys listed under ignored are LiteLLM settings that have no
// meaning here: they are accepted with a note, so a LiteLLM file still loads, and never
// silently.
var (
	topKeys     = []string{"model_list", "litellm_settings", "router_settings", "general_settings", "environment_variables"}
	entryKeys   = []string{"model_name", "litellm_params", "model_info"}
	paramKeys   = []string{"model", "api_key", "api_base", "timeout", "stream_timeout", "rpm", "tpm", "extra_headers", "drop_params", "temperature", "top_p", "max_tokens", "max_completion_tokens", "presence_penalty", "frequency_penalty", "stop", "reasoning_effort", "thinking"}
	litellmKeys = []string{"drop_params", "num_retries", "request_timeout"}
	routerKeys  = []string{"routing_strategy"}
	generalKeys = []string{"master_key"}
	ignoredKeys = map[string][]string{
		"litellm_settings": {"set_verbose", "json_logs", "telemetry", "success_callback", "failure_callback", "callbacks", "cache", "cache_params"},
		"router_settings":  {"allowed_fails", "cooldown_time", "enable_pre_call_checks", "redis_host", "redis_port", "redis_password"},
		"general_settings": {"database_url", "store_model_in_db", "disable_spend_logs", "alerting"},
	}
	keyHints = map[string]string{
		"base_url":    "write api_base",
		"max_retries": "retries are litellm_settings.num_retries, which also fail over between deployments",
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
	for i, item := range list.Content {
		d, err := p.entry(resolve(item), i)
		if err != nil {
			return nil, err
		}
		cfg.Deployments = append(cfg.Deployments, d)
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
	} else if s := closest(name, known); s != "" {
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
		}
		return err
	})
}

func (p *parser) routerSettings(n *yaml.Node, cfg *Config) error {
	return p.section(n, "router_settings", routerKeys, func(key string, v *yaml.Node) error {
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

func (p *parser) entry(n *yaml.Node, i int) (Deployment, error) {
	where := fmt.Sprintf("model_list[%d]", i)
	d := Deployment{Line: n.Line}
	if n.Kind != yaml.MappingNode {
		return d, p.errf(n, "%s must be a mapping with model_name and litellm_params", where)
	}
	var params *yaml.Node
	kvs, err := p.pairs(n)
	if err != nil {
		return d, err
	}
	for _, kv := range kvs {
		key, v := kv[0].Value, resolve(kv[1])
		switch key {
		case "model_name":
			s, _, err := p.str(v, "model_name")
			if err != nil {
				return d, err
			}
			d.ModelName = s
		case "litellm_params":
			params = v
		case "model_info":
			// Descriptive metadata in LiteLLM (id, mode, base_model); nothing here reads it.
		default:
			return d, p.unknown(kv[0], "key", key, where, entryKeys)
		}
	}
	if d.ModelName == "" {
		return d, p.errf(n, "%s has no model_name: the name clients ask for", where)
	}
	where = fmt.Sprintf("%s (%s)", where, d.ModelName)
	if params == nil || isNull(params) {
		return d, p.errf(n, "%s has no litellm_params (it needs at least model: moonshot/<id>)", where)
	}
	if params.Kind != yaml.MappingNode {
		return d, p.errf(params, "%s: litellm_params must be a mapping", where)
	}
	kvs, err = p.pairs(params)
	if err != nil {
		return d, err
	}
	limitsLine := 0
	for _, kv := range kvs {
		key := kv[0].Value
		if !slices.Contains(paramKeys, key) {
			return d, p.unknown(kv[0], "key", key, "litellm_params", paramKeys)
		}
		if (key == "rpm" || key == "tpm") && limitsLine == 0 {
			limitsLine = kv[0].Line
		}
		if err := p.param(&d, key, resolve(kv[1])); err != nil {
			return d, err
		}
	}
	if d.Model == "" {
		return d, p.errf(params, "%s: litellm_params has no model (e.g. model: moonshot/%s)", where, d.ModelName)
	}
	if limitsLine > 0 {
		p.note(&yaml.Node{Line: limitsLine}, "%s: rpm and tpm are not enforced by moonchat serve; Moonshot's own limits apply", where)
	}
	if p.offline {
		return d, nil
	}
	if d.APIKey == "" {
		d.APIKey = p.lookup(moonshot.EnvAPIKey)
	}
	if d.APIKey == "" {
		return d, p.errf(params, "%s has no api_key and %s is not set", where, moonshot.EnvAPIKey)
	}
	if d.APIBase == "" {
		d.APIBase = p.lookup(moonshot.EnvAPIBase)
	}
	if d.APIBase == "" {
		d.APIBase = moonshot.GlobalBaseURL
	}
	return d, nil
}

func (p *parser) param(d *Deployment, key string, v *yaml.Node) error {
	df := &d.Defaults
	switch key {
	case "model":
		s, _, err := p.str(v, key)
		if err != nil {
			return err
		}
		id, ok := strings.CutPrefix(s, "moonshot/")
		switch {
		case ok && id != "":
			d.Model = id
		case !strings.Contains(s, "/"):
			return p.errf(v, "model %q needs LiteLLM's provider prefix: moonshot/%s", s, s)
		default:
			return p.errf(v, "model %q: moonchat serve only serves Moonshot models (moonshot/<id>)", s)
		}
	case "api_key", "api_base":
		if p.offline {
			if v.Kind != yaml.ScalarNode {
				return p.errf(v, "%s must be a single value", key)
			}
			return nil
		}
		s, _, err := p.str(v, key)
		if err != nil {
			return err
		}
		if key == "api_key" {
			d.APIKey = s
			return nil
		}
		if s != "" {
			u, err := url.Parse(s)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				return p.errf(v, "api_base %q must be an http:// or https:// URL, e.g. %s", redactURL(s), moonshot.GlobalBaseURL)
			}
		}
		d.APIBase = strings.TrimRight(s, "/")
	case "timeout":
		return p.duration(v, key, &d.Timeout)
	case "stream_timeout":
		return p.duration(v, key, &d.StreamTimeout)
	case "rpm", "tpm":
		n, err := p.integer(v, key, 0)
		if err != nil || n == nil {
			return err
		}
		if key == "rpm" {
			d.RPM = *n
		} else {
			d.TPM = *n
		}
	case "extra_headers":
		return p.headers(v, d)
	case "drop_params":
		var b bool
		if isNull(v) {
			return nil
		}
		if err := p.boolean(v, key, &b); err != nil {
			return err
		}
		d.DropParams = &b
	case "temperature", "top_p", "presence_penalty", "frequency_penalty":
		f, err := p.number(v, key)
		if err != nil {
			return err
		}
		switch key {
		case "temperature":
			df.Temperature = f
		case "top_p":
			df.TopP = f
		case "presence_penalty":
			df.PresencePenalty = f
		default:
			df.FrequencyPenalty = f
		}
	case "max_tokens", "max_completion_tokens":
		n, err := p.integer(v, key, 1)
		if err != nil {
			return err
		}
		if key == "max_tokens" {
			df.MaxTokens = n
		} else {
			df.MaxCompletionTokens = n
		}
	case "stop":
		return p.stop(v, df)
	case "reasoning_effort":
		s, _, err := p.str(v, key)
		if err != nil {
			return err
		}
		df.ReasoningEffort = s
	case "thinking":
		return p.thinking(v, df)
	}
	return nil
}

func (p *parser) headers(v *yaml.Node, d *Deployment) error {
	if isNull(v) {
		return nil
	}
	if v.Kind != yaml.MappingNode {
		return p.errf(v, "extra_headers must map Header-Name: value")
	}
	d.ExtraHeaders = map[string]string{}
	kvs, err := p.pairs(v)
	if err != nil {
		return err
	}
	for _, kv := range kvs {
		name := kv[0].Value
		switch strings.ToLower(name) {
		case "authorization":
			return p.errf(kv[0], "extra_headers cannot set Authorization: give the key as api_key")
		case "content-type", "content-length", "host":
			return p.errf(kv[0], "extra_headers cannot set %s: the proxy sets it", name)
		}
		s, _, err := p.str(resolve(kv[1]), "extra_headers."+name)
		if err != nil {
			return err
		}
		d.ExtraHeaders[name] = s
	}
	return nil
}

func (p *parser) stop(v *yaml.Node, df *Defaults) error {
	switch {
	case isNull(v):
		return nil
	case v.Kind == yaml.SequenceNode:
		for _, item := range v.Content {
			s, _, err := p.str(resolve(item), "stop")
			if err != nil {
				return err
			}
			df.Stop = append(df.Stop, s)
		}
		return nil
	}
	s, _, err := p.str(v, "stop")
	if s != "" {
		df.Stop = []string{s}
	}
	return err
}

func (p *parser) thinking(v *yaml.Node, df *Defaults) error {
	if isNull(v) {
		return nil
	}
	if v.Kind != yaml.MappingNode {
		return p.errf(v, "thinking must be a mapping such as {type: disabled}")
	}
	th := &moonshot.Thinking{}
	kvs, err := p.pairs(v)
	if err != nil {
		return err
	}
	for _, kv := range kvs {
		s, _, err := p.str(resolve(kv[1]), "thinking."+kv[0].Value)
		if err != nil {
			return err
		}
		switch kv[0].Value {
		case "type":
			if s != "enabled" && s != "disabled" {
				return p.errf(kv[1], "thinking.type must be enabled or disabled, not %q", s)
			}
			th.Type = s
		case "keep":
			th.Keep = &s
		default:
			return p.unknown(kv[0], "key", kv[0].Value, "thinking", []string{"type", "keep"})
		}
	}
	if th.Type == "" {
		return p.errf(v, "thinking needs a type: enabled or disabled")
	}
	df.Thinking = th
	return nil
}

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

// closest is the known name nearest to name, if it is near enough to be a typo.
func closest(name string, known []string) string {
	best, bestDist := "", len(name)/2+2
	for _, k := range known {
		if d := editDistance(name, k); d < bestDist {
			best, bestDist = k, d
		}
	}
	return best
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// redactURL hides a password in a URL for messages and logs.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.User == nil {
		return s
	}
	return u.Redacted()
}
