package proxy

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/moonchat/moonchat/pkg/moonshot"
)

// envMap is a fake environment for the parser.
func envMap(kv ...string) func(string) string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) string { return m[k] }
}

func parse(t *testing.T, yaml string, env func(string) string) (*Config, error) {
	t.Helper()
	return ParseConfig("config.yaml", []byte(yaml), LoadOptions{Getenv: env})
}

func TestLiteLLMExampleParsesVerbatim(t *testing.T) {
	// testdata/litellm-moonshot.yaml is LiteLLM's documented example config for Moonshot, byte for byte.
	cfg, err := LoadConfig(filepath.Join("testdata", "litellm-moonshot.yaml"), LoadOptions{Getenv: envMap("MOONSHOT_API_KEY", "sk-from-env")})
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Deployments) != 3 {
		t.Fatalf("%d deployments", len(cfg.Deployments))
	}
	for i, want := range []string{"moonshot-v1-8k", "moonshot-v1-32k", "moonshot-v1-128k"} {
		d := cfg.Deployments[i]
		if d.ModelName != want || d.Model != want || d.APIKey != "sk-from-env" || d.APIBase != moonshot.GlobalBaseURL {
			t.Errorf("deployment %d = %+v", i, d)
		}
	}
	if cfg.MasterKey != "" || cfg.NumRetries != DefaultNumRetries || cfg.RequestTimeout != DefaultRequestTimeout ||
		cfg.RoutingStrategy != RoundRobin || len(cfg.Notes) != 0 {
		t.Errorf("defaults: %+v", cfg)
	}
}

func TestFullConfig(t *testing.T) {
	yaml := `
environment_variables:
  TEAM_KEY: sk-team
model_list:
  - model_name: kimi
    litellm_params:
      model: moonshot/kimi-k2.6
      api_key: os.environ/TEAM_KEY
      api_base: https://api.moonshot.cn/v1/
      timeout: 30
      stream_timeout: 5s
      temperature: 0.2
      top_p: os.environ/TOP_P
      max_tokens: 512
      stop: ["END", "STOP"]
      reasoning_effort: high
      thinking: {type: disabled}
      extra_headers:
        X-Team: os.environ/TEAM
      drop_params: false
    model_info:
      id: anything
  - model_name: kimi
    litellm_params:
      model: moonshot/kimi-k2.6
      stop: END
litellm_settings:
  drop_params: true
  num_retries: 4
  request_timeout: 120
router_settings:
  routing_strategy: simple-shuffle
general_settings:
  master_key: os.environ/PROXY_KEY
`
	cfg, err := parse(t, yaml, envMap("TOP_P", "0.9", "TEAM", "blue", "PROXY_KEY", "sk-master", "MOONSHOT_API_KEY", "sk-default", "MOONSHOT_API_BASE", "http://127.0.0.1:9/v1"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.MasterKey != "sk-master" || !cfg.DropParams || cfg.NumRetries != 4 || cfg.RequestTimeout != 2*time.Minute || cfg.RoutingStrategy != SimpleShuffle {
		t.Errorf("settings: %+v", cfg)
	}
	d := cfg.Deployments[0]
	if d.ModelName != "kimi" || d.Model != "kimi-k2.6" || d.APIKey != "sk-team" || d.APIBase != "https://api.moonshot.cn/v1" ||
		d.Timeout != 30*time.Second || d.StreamTimeout != 5*time.Second || d.ExtraHeaders["X-Team"] != "blue" ||
		d.DropParams == nil || *d.DropParams || d.Line != 5 {
		t.Errorf("deployment 0: %+v", d)
	}
	df := d.Defaults
	if *df.Temperature != 0.2 || *df.TopP != 0.9 || *df.MaxTokens != 512 || strings.Join(df.Stop, ",") != "END,STOP" ||
		df.ReasoningEffort != "high" || df.Thinking.Type != "disabled" {
		t.Errorf("defaults: %+v", df)
	}
	// The second entry falls back on the environment for its key and base.
	d2 := cfg.Deployments[1]
	if d2.APIKey != "sk-default" || d2.APIBase != "http://127.0.0.1:9/v1" || strings.Join(d2.Defaults.Stop, ",") != "END" {
		t.Errorf("deployment 1: %+v", d2)
	}
}

func TestEnvironmentVariablesDoNotTouchTheProcess(t *testing.T) {
	t.Setenv("MOONCHAT_PROXY_TEST_VAR", "")
	yaml := "environment_variables:\n  MOONCHAT_PROXY_TEST_VAR: sk-layered\nmodel_list:\n  - model_name: a\n    litellm_params:\n      model: moonshot/kimi-k2.6\n      api_key: os.environ/MOONCHAT_PROXY_TEST_VAR\n"
	cfg, err := ParseConfig("c.yaml", []byte(yaml), LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Deployments[0].APIKey != "sk-layered" {
		t.Fatalf("key %q", cfg.Deployments[0].APIKey)
	}
	if v := os.Getenv("MOONCHAT_PROXY_TEST_VAR"); v != "" {
		t.Fatalf("the process environment was changed: %q", v)
	}
}

func TestMasterKeyFromEnvironment(t *testing.T) {
	yaml := "model_list:\n  - model_name: a\n    litellm_params: {model: moonshot/kimi-k2.6, api_key: k}\n"
	for _, tc := range []struct {
		env  []string
		want string
	}{
		{nil, ""},
		{[]string{"LITELLM_MASTER_KEY", "sk-litellm"}, "sk-litellm"},
		{[]string{"LITELLM_MASTER_KEY", "sk-litellm", "MOONCHAT_MASTER_KEY", "sk-moonchat"}, "sk-moonchat"},
	} {
		cfg, err := parse(t, yaml, envMap(tc.env...))
		if err != nil {
			t.Fatal(err)
		}
		if cfg.MasterKey != tc.want {
			t.Errorf("env %v: master key %q, want %q", tc.env, cfg.MasterKey, tc.want)
		}
	}
	// The file wins over the environment.
	cfg, err := parse(t, yaml+"general_settings:\n  master_key: sk-file\n", envMap("MOONCHAT_MASTER_KEY", "sk-env"))
	if err != nil || cfg.MasterKey != "sk-file" {
		t.Fatalf("%v %+v", err, cfg)
	}
}

func TestNotesForSettingsWithoutEffect(t *testing.T) {
	yaml := `model_list:
  - model_name: a
    litellm_params:
      model: moonshot/kimi-k2.6
      api_key: k
      rpm: 60
      tpm: 100000
litellm_settings:
  set_verbose: true
`
	cfg, err := parse(t, yaml, envMap())
	if err != nil {
		t.Fatal(err)
	}
	notes := strings.Join(cfg.Notes, "\n")
	if len(cfg.Notes) != 1 || !strings.Contains(notes, "config.yaml:9: litellm_settings.set_verbose is a LiteLLM setting") {
		t.Fatalf("notes:\n%s", notes)
	}
	if d := cfg.Deployments[0]; d.RPM != 60 || d.TPM != 100000 {
		t.Fatalf("%+v", d)
	}
}

func TestOfflineLeavesKeysUnresolved(t *testing.T) {
	cfg, err := ParseConfig("c.yaml", []byte("model_list:\n  - model_name: a\n    litellm_params:\n      model: moonshot/kimi-k2.6\n      api_key: os.environ/UNSET_VARIABLE\n"),
		LoadOptions{Getenv: envMap(), Offline: true})
	if err != nil {
		t.Fatal(err)
	}
	if d := cfg.Deployments[0]; d.APIKey != "" || d.APIBase != "" {
		t.Fatalf("%+v", d)
	}
}

func TestConfigErrors(t *testing.T) {
	entry := func(params string) string {
		return "model_list:\n  - model_name: a\n    litellm_params:\n      model: moonshot/kimi-k2.6\n      api_key: k\n" + params
	}
	tests := []struct {
		name, yaml, want string
	}{
		{"empty", "", "config.yaml: the file is empty"},
		{"syntax", "model_list: []\nb: c: d\n", "config.yaml:2: mapping values are not allowed in this context"},
		{"not a mapping", "- a\n- b\n", "config.yaml:1: expected sections"},
		{"two documents", entry("") + "---\na: 1\n", "config.yaml:7: only one YAML document"},
		{"unknown section", "model_lst: []\n", `config.yaml:1: unknown section "model_lst" (did you mean "model_list"?)`},
		{"no model_list", "general_settings:\n  master_key: x\n", "config.yaml:1: model_list is missing"},
		{"empty model_list", "model_list: []\n", "config.yaml:1: model_list must be a non-empty list"},
		{"unknown entry key", "model_list:\n  - model_name: a\n    litellm_param: {}\n", `config.yaml:3: unknown key "litellm_param" in model_list[0] (did you mean "litellm_params"?)`},
		{"no model_name", "model_list:\n  - litellm_params: {model: moonshot/x}\n", "config.yaml:2: model_list[0] has no model_name"},
		{"no litellm_params", "model_list:\n  - model_name: a\n", "config.yaml:2: model_list[0] (a) has no litellm_params"},
		{"no model", "model_list:\n  - model_name: a\n    litellm_params:\n      api_key: k\n", "config.yaml:4: model_list[0] (a): litellm_params has no model"},
		{"typo in params", entry("      temprature: 0.5\n"), `config.yaml:6: unknown key "temprature" in litellm_params (did you mean "temperature"?)`},
		{"base_url hint", entry("      base_url: https://x\n"), `config.yaml:6: unknown key "base_url" in litellm_params (write api_base)`},
		{"no provider prefix", "model_list:\n  - model_name: a\n    litellm_params:\n      model: kimi-k2.6\n", `config.yaml:4: model "kimi-k2.6" needs LiteLLM's provider prefix: moonshot/kimi-k2.6`},
		{"other provider", "model_list:\n  - model_name: a\n    litellm_params:\n      model: openai/gpt-4o\n", "config.yaml:4: model \"openai/gpt-4o\": moonchat serve only serves Moonshot models"},
		{"missing variable", "model_list:\n  - model_name: a\n    litellm_params:\n      model: moonshot/kimi-k2.6\n      api_key: os.environ/NOT_SET_ANYWHERE\n",
			"config.yaml:5: api_key: environment variable NOT_SET_ANYWHERE is not set (os.environ/NOT_SET_ANYWHERE)"},
		{"no key at all", "model_list:\n  - model_name: a\n    litellm_params:\n      model: moonshot/kimi-k2.6\n", "config.yaml:4: model_list[0] (a) has no api_key and MOONSHOT_API_KEY is not set"},
		{"bad number", entry("      temperature: hot\n"), `config.yaml:6: temperature: "hot" is not a number`},
		{"bad integer", entry("      max_tokens: 1.5\n"), `config.yaml:6: max_tokens: "1.5" is not a whole number`},
		{"zero max_tokens", entry("      max_tokens: 0\n"), "config.yaml:6: max_tokens must be at least 1, not 0"},
		{"bad timeout", entry("      timeout: soon\n"), `config.yaml:6: timeout: "soon" is not a duration`},
		{"bad api_base", entry("      api_base: ftp://x\n"), `config.yaml:6: api_base "ftp://x" must be an http:// or https:// URL`},
		{"authorization header", entry("      extra_headers:\n        Authorization: Bearer x\n"), "config.yaml:7: extra_headers cannot set Authorization"},
		{"bad thinking", entry("      thinking: {type: maybe}\n"), `config.yaml:6: thinking.type must be enabled or disabled, not "maybe"`},
		{"list where a value goes", entry("      temperature: [1]\n"), "config.yaml:6: temperature must be a single value"},
		{"duplicate key", entry("      api_key: other\n"), "config.yaml:6: api_key is given twice (first on line 5)"},
		{"bad strategy", entry("router_settings:\n  routing_strategy: least-busy\n"), `config.yaml:7: routing_strategy "least-busy" is not supported`},
		{"unknown setting", entry("litellm_settings:\n  num_retry: 3\n"), `config.yaml:7: unknown setting "num_retry" in litellm_settings (did you mean "num_retries"?)`},
		{"max_retries hint", entry("      max_retries: 3\n"), "config.yaml:6: litellm_params.max_retries is not supported: the proxy is the only retry loop"},
		{"bad bool", entry("litellm_settings:\n  drop_params: maybe\n"), `config.yaml:7: drop_params: "maybe" is not true or false`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parse(t, tt.yaml, envMap())
			if err == nil {
				t.Fatal("no error")
			}
			var ce *ConfigError
			if !errors.As(err, &ce) || ce.ExitCode() != 2 {
				t.Fatalf("error %T %v is not a ConfigError", err, err)
			}
			if !strings.HasPrefix(err.Error(), tt.want) {
				t.Fatalf("error:\n  %s\nwant prefix:\n  %s", err, tt.want)
			}
		})
	}
}

func TestUnreadableConfig(t *testing.T) {
	_, err := LoadConfig(filepath.Join(t.TempDir(), "missing.yaml"), LoadOptions{})
	if err == nil || !strings.Contains(err.Error(), "missing.yaml: cannot read: no such file or directory") {
		t.Fatalf("%v", err)
	}
}
