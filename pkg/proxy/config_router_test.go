package proxy

import (
	"strings"
	"testing"
	"time"
)

func TestRouterKeysParse(t *testing.T) {
	yaml := `model_list:
  - model_name: moonshot-v1-8k
    litellm_params:
      model: moonshot/moonshot-v1-8k
      api_key: k
      rpm: 60
      tpm: 100000
      weight: 2
      tags: [teamA, default]
      additional_drop_params: [temperature]
      allowed_openai_params: [logprobs]
      input_cost_per_token: 0.0000002
      output_cost_per_token: 0.000002
      seed: 7
    model_info: {id: eight, mode: chat}
  - model_name: moonshot-v1-32k
    litellm_params: {model: moonshot/moonshot-v1-32k, api_key: k}
  - model_name: "*"
    litellm_params: {model: "moonshot/*", api_key: k}
litellm_settings:
  context_window_fallbacks: [{moonshot-v1-8k: [moonshot-v1-32k]}]
router_settings:
  allowed_fails: 2
  cooldown_time: 30
  num_retries: 4
  fallbacks: [{moonshot-v1-32k: moonshot-v1-8k}]
  redis_host: 10.0.0.5
  redis_port: 6380
  redis_password: os.environ/REDIS_PASSWORD
`
	cfg, err := parse(t, yaml, envMap("REDIS_PASSWORD", "pw"))
	if err != nil {
		t.Fatal(err)
	}
	d := cfg.Deployments[0]
	if d.RPM != 60 || d.TPM != 100000 || d.Weight != 2 || strings.Join(d.Tags, ",") != "teamA,default" ||
		strings.Join(d.AdditionalDropParams, ",") != "temperature" || strings.Join(d.AllowedOpenAIParams, ",") != "logprobs" ||
		*d.InputCostPerToken != 0.0000002 || *d.OutputCostPerToken != 0.000002 || *d.Defaults.Seed != 7 || d.ID != "eight" {
		t.Fatalf("%+v", d)
	}
	if p := d.priceOf(d.Model); !near(p.Input, 0.2) || !near(p.Output, 2) || p.Currency != "USD" {
		t.Fatalf("price %+v", p)
	}
	if cfg.AllowedFails != 2 || cfg.CooldownTime != 30*time.Second || cfg.NumRetries != 4 ||
		strings.Join(cfg.ContextWindowFallbacks["moonshot-v1-8k"], ",") != "moonshot-v1-32k" ||
		strings.Join(cfg.Fallbacks["moonshot-v1-32k"], ",") != "moonshot-v1-8k" {
		t.Fatalf("%+v", cfg)
	}
	if cfg.Redis != (RedisSettings{Host: "10.0.0.5", Port: "6380", Password: "pw"}) || len(cfg.Notes) != 0 {
		t.Fatalf("redis %+v notes %v", cfg.Redis, cfg.Notes)
	}
	// LiteLLM reads the cooldown settings from litellm_settings too.
	cfg, err = parse(t, "model_list:\n  - model_name: a\n    litellm_params: {model: moonshot/x, api_key: k}\nlitellm_settings:\n  allowed_fails: 5\n  cooldown_time: 1.5\n", envMap())
	if err != nil || cfg.AllowedFails != 5 || cfg.CooldownTime != 1500*time.Millisecond {
		t.Fatalf("%v %+v", err, cfg)
	}
	cfg, err = parse(t, "model_list:\n  - model_name: a\n    litellm_params: {model: moonshot/x, api_key: k}\n", envMap("REDIS_URL", "redis://r:6379/0"))
	if err != nil || cfg.Redis.URL != "redis://r:6379/0" || cfg.AllowedFails != 0 {
		t.Fatalf("%v %+v", err, cfg)
	}
}

func TestRouterKeyErrors(t *testing.T) {
	entry := func(params string) string {
		return "model_list:\n  - model_name: a\n    litellm_params:\n      model: moonshot/kimi-k2.6\n      api_key: k\n" + params
	}
	for _, tt := range []struct{ name, yaml, want string }{
		{"fallback to nothing", entry("router_settings:\n  fallbacks: [{a: [b]}]\n"), `config.yaml:7: fallbacks: "b" is not a model_name of model_list`},
		{"fallback from nothing", entry("router_settings:\n  fallbacks: [{c: [a]}]\n"), `config.yaml:7: fallbacks: "c" is not a model_name of model_list`},
		{"fallback to itself", entry("litellm_settings:\n  context_window_fallbacks: [{a: [a]}]\n"), "config.yaml:7: context_window_fallbacks: a falls back to itself"},
		{"fallbacks shape", entry("router_settings:\n  fallbacks: {a: b}\n"), "config.yaml:7: fallbacks must be a list of {model_name: [fallback, ...]}"},
		{"zero allowed_fails", entry("router_settings:\n  allowed_fails: 0\n"), "config.yaml:7: allowed_fails must be at least 1, not 0"},
		{"zero weight", entry("      weight: 0\n"), "config.yaml:6: weight must be above 0"},
		{"negative cost", entry("      input_cost_per_token: -1\n"), "config.yaml:6: input_cost_per_token must not be negative"},
		{"drop messages", entry("      additional_drop_params: [messages]\n"), `config.yaml:6: additional_drop_params cannot drop "messages"`},
		{"same id", "model_list:\n  - model_name: a\n    litellm_params: {model: moonshot/x, api_key: k}\n    model_info: {id: one}\n  - model_name: b\n    litellm_params: {model: moonshot/x, api_key: k}\n    model_info: {id: one}\n",
			`config.yaml:5: model_info.id "one" is also the id of the entry on line 2`},
		{"bad redis port", entry("router_settings:\n  redis_host: r\n  redis_port: abc\n"), `config.yaml: redis_port "abc" is not a port number`},
		{"bad redis url", entry("router_settings:\n  redis_url: http://r\n"), "config.yaml: REDIS_URL/redis_url: http://r is not a redis:// URL"},
		{"max_retries", entry("      max_retries: 3\n"), "config.yaml:6: litellm_params.max_retries is not supported: the proxy is the only retry loop"},
		{"wildcard model, fixed name", "model_list:\n  - model_name: a\n    litellm_params:\n      model: moonshot/*\n      api_key: k\n",
			`config.yaml:4: model moonshot/* has a wildcard but model_name "a" does not`},
		{"two stars", "model_list:\n  - model_name: \"*-*\"\n    litellm_params:\n      model: moonshot/*\n      api_key: k\n",
			`config.yaml:2: model_name "*-*", model moonshot/*: a wildcard may have only one "*"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parse(t, tt.yaml, envMap())
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Fatalf("error:\n  %v\nwant prefix:\n  %s", err, tt.want)
			}
		})
	}
}

func TestDeploymentIDsAreUnique(t *testing.T) {
	a, b := Deployment{ModelName: "a", Model: "kimi-k2.6", ID: "x"}, Deployment{ModelName: "b", Model: "kimi-k2.6", ID: "x"}
	if _, err := New(&Config{Deployments: []Deployment{a, b}}, Options{}); err == nil || !strings.Contains(err.Error(), `two deployments have the id "x"`) {
		t.Fatalf("%v", err)
	}
	b.ID = ""
	h, err := New(&Config{Deployments: []Deployment{a, b, b}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, d := range h.all {
		ids = append(ids, d.ID)
	}
	if strings.Join(ids, " ") != "x b#0 b#1" {
		t.Fatalf("ids %v", ids)
	}
}
