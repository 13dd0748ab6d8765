package proxy

import (
	"errors"
	"fmt"
	"os"
	"time"

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
	// AllowedFails is how many failures a deployment may have in a minute before it cools
	// down for CooldownTime (router_settings; LiteLLM's defaults, DefaultAllowedFails and
	// DefaultCooldownTime, when zero).
	AllowedFails int
	CooldownTime time.Duration
	// Fallbacks map a model name to the names tried in order when its deployments fail (429,
	// 5xx, timeouts, or all at their limits); ContextWindowFallbacks when the prompt does not
	// fit its model.
	Fallbacks, ContextWindowFallbacks map[string][]string
	// Redis holds the shared state of several replicas (rpm/tpm counters, cooldowns); zero
	// keeps it in memory.
	Redis RedisSettings
	// Notes are settings that were accepted but have no effect here; `serve` prints them.
	Notes []string
}

// RedisSettings locate the Redis server several replicas share (router_settings.redis_host,
// redis_port, redis_password, or a redis:// URL from REDIS_URL).
type RedisSettings struct {
	Host, Port, Password string
	URL                  string
}

// Enabled reports whether a Redis server is configured.
func (r RedisSettings) Enabled() bool { return r.Host != "" || r.URL != "" }

// LiteLLM's router defaults.
const (
	DefaultAllowedFails = 3
	DefaultCooldownTime = 5 * time.Second
)

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
	// RPM and TPM cap the requests and tokens a minute this deployment is sent (0 = no cap);
	// a deployment at its cap is skipped.
	RPM, TPM int
	// Weight is the deployment's share of first picks in its group (0 = 1).
	Weight float64
	// InputCostPerToken and OutputCostPerToken replace the model table's prices (USD per
	// token, LiteLLM's unit) in the cost estimate.
	InputCostPerToken, OutputCostPerToken *float64
	// AdditionalDropParams are request fields always removed for this deployment;
	// AllowedOpenAIParams are kept even when drop_params removes unknown fields.
	AdditionalDropParams, AllowedOpenAIParams []string
	// Tags route requests that carry tags (see tags.go); nil = any request.
	Tags []string
	// ID names the deployment in metrics, logs and shared state (model_info.id, else
	// "<model_name>#<n>" with n its place among the name's deployments).
	ID           string
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
	Seed                           *int64
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

// priceOf is the price of model for the cost estimate: the model table's, with the
// deployment's per-token overrides (LiteLLM's unit) turned into the table's per-million unit.
func (d *Deployment) priceOf(model string) moonshot.Price {
	spec, _ := moonshot.LookupModel(model)
	p := spec.Price
	if d.InputCostPerToken != nil {
		p.Input = *d.InputCostPerToken * 1e6
		if p.InputCache == 0 || p.InputCache > p.Input {
			p.InputCache = p.Input
		}
	}
	if d.OutputCostPerToken != nil {
		p.Output = *d.OutputCostPerToken * 1e6
	}
	if p.Currency == "" && p.Known() {
		p.Currency = "USD"
	}
	return p
}
