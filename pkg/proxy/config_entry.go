package proxy

import (
	"fmt"
	"math"
	"net/url"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/moonchat/moonchat/pkg/moonshot"
)

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
			// Descriptive metadata in LiteLLM (mode, base_model, ...); only id is read here: it
			// names the deployment in metrics, logs and shared state.
			if err := p.modelInfo(v, &d); err != nil {
				return d, err
			}
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
	var modelNode *yaml.Node
	for _, kv := range kvs {
		key := kv[0].Value
		if why, ok := refusedParams[key]; ok {
			return d, p.errf(kv[0], "litellm_params.%s is not supported: %s", key, why)
		}
		if !slices.Contains(paramKeys, key) {
			return d, p.unknown(kv[0], "key", key, "litellm_params", paramKeys)
		}
		if key == "model" {
			modelNode = kv[1]
		}
		if err := p.param(&d, key, resolve(kv[1])); err != nil {
			return d, err
		}
	}
	if d.Model == "" {
		return d, p.errf(params, "%s: litellm_params has no model (e.g. model: moonshot/%s)", where, d.ModelName)
	}
	if err := p.wildcard(n, modelNode, &d); err != nil {
		return d, err
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
				return p.errf(v, "api_base %q must be an http:// or https:// URL, e.g. %s", moonshot.RedactURL(s), moonshot.GlobalBaseURL)
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
	case "seed":
		n, err := p.integer(v, key, math.MinInt)
		if err != nil || n == nil {
			return err
		}
		seed := int64(*n)
		df.Seed = &seed
	case "weight":
		f, err := p.number(v, key)
		if err != nil || f == nil {
			return err
		}
		if *f <= 0 {
			return p.errf(v, "weight must be above 0 (a deployment's share of its group's requests), not %g", *f)
		}
		d.Weight = *f
	case "input_cost_per_token", "output_cost_per_token":
		f, err := p.number(v, key)
		if err != nil || f == nil {
			return err
		}
		if *f < 0 {
			return p.errf(v, "%s must not be negative", key)
		}
		if key == "input_cost_per_token" {
			d.InputCostPerToken = f
		} else {
			d.OutputCostPerToken = f
		}
	case "tags", "additional_drop_params", "allowed_openai_params":
		list, err := p.strings(v, key)
		if err != nil {
			return err
		}
		switch key {
		case "tags":
			d.Tags = list
		case "additional_drop_params":
			for _, name := range list {
				if !droppable(name) {
					return p.errf(v, "additional_drop_params cannot drop %q: a chat request needs it", name)
				}
			}
			d.AdditionalDropParams = list
		default:
			d.AllowedOpenAIParams = list
		}
	}
	return nil
}

// strings reads a list of strings (a single string counts as a list of one).
func (p *parser) strings(v *yaml.Node, name string) ([]string, error) {
	if isNull(v) {
		return nil, nil
	}
	if v.Kind != yaml.SequenceNode {
		s, _, err := p.str(v, name)
		if err != nil || s == "" {
			return nil, err
		}
		return []string{s}, nil
	}
	out := make([]string, 0, len(v.Content))
	for _, item := range v.Content {
		s, _, err := p.str(resolve(item), name)
		if err != nil {
			return nil, err
		}
		if s != "" {
			out = append(out, s)
		}
	}
	return out, nil
}

// modelInfo reads model_info.id; the rest of model_info is LiteLLM's descriptive metadata.
func (p *parser) modelInfo(v *yaml.Node, d *Deployment) error {
	if isNull(v) {
		return nil
	}
	if v.Kind != yaml.MappingNode {
		return p.errf(v, "model_info must be a mapping")
	}
	kvs, err := p.pairs(v)
	if err != nil {
		return err
	}
	for _, kv := range kvs {
		if kv[0].Value == "id" {
			s, _, err := p.str(resolve(kv[1]), "model_info.id")
			if err != nil {
				return err
			}
			d.ID = s
		}
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
