// Package serve implements `moonchat serve`: the OpenAI-compatible proxy in front of Moonshot.
package serve

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/spf13/cobra"

	"github.com/moonchat/moonchat/cmd/cli"
	"github.com/moonchat/moonchat/pkg/build"
	"github.com/moonchat/moonchat/pkg/config"
	"github.com/moonchat/moonchat/pkg/emulator"
	"github.com/moonchat/moonchat/pkg/iostreams"
	"github.com/moonchat/moonchat/pkg/moonshot"
	"github.com/moonchat/moonchat/pkg/proxy"
)

// Options are the inputs of a serve run.
type Options struct {
	IO      *iostreams.IOStreams
	Factory *cli.Factory
	Config  *config.Config

	ConfigFile     string
	Host           string
	Port           int
	Grace          time.Duration
	InsecureNoAuth bool
	Offline        bool
	LogFormat      string // text or json
	ModelsRefresh  time.Duration
	MetricsAddr    string

	// Getenv reads the environment for the config file's os.environ/ references and the
	// master key (nil = os.Getenv).
	Getenv func(string) string

	// Test hooks: ready learns the address once the server listens; shutdownStarted is called
	// when the shutdown begins.
	ready           func(addr string)
	shutdownStarted func()
	modelsRefreshed func() // after the refresh at start
	metricsReady    func(addr string)
}

// Server timeouts. Streams may run for many minutes, so nothing bounds a response; a client
// gets ReadTimeout to send its request (headers and a body of up to 32 MB). The first three
// are exported for the test that holds pkg/proxy/README.md to them.
const (
	ReadHeaderTimeout = 10 * time.Second
	ReadTimeout       = 5 * time.Minute
	IdleTimeout       = 2 * time.Minute
	listModelsTimeout = 15 * time.Second
)

// NewCmdServe builds the command. runF replaces the run function in tests of flag parsing.
func NewCmdServe(f *cli.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Factory: f}
	cmd := &cobra.Command{
		Use:   "serve [flags]",
		Short: "Serve Kimi behind an OpenAI-compatible API (LiteLLM's proxy)",
		Long: cli.Doc(`
			Run an OpenAI-compatible HTTP server in front of Moonshot's API. Point any OpenAI
			client (SDKs, curl, LiteLLM) at http://HOST:PORT or http://HOST:PORT/v1 and use Kimi
			without knowing its quirks: every request goes through Moonshot's parameter fixes for
			the model that answers it.

			Without --config, every model your key can use (GET /v1/models; the built-in list when
			that fails) is served under its own name, with the key, region and API base from the
			usual settings (MOONSHOT_API_KEY, moonchat config, --region, --api-base).

			CONFIG FILE (--config): LiteLLM's config.yaml format.

			  model_list:                      # required; one entry per deployment
			    - model_name: kimi             # the name clients ask for
			      litellm_params:
			        model: moonshot/kimi-k2.6  # required, with the moonshot/ prefix
			        api_key: os.environ/MOONSHOT_API_KEY   # default: $MOONSHOT_API_KEY
			        api_base: https://api.moonshot.ai/v1   # default: $MOONSHOT_API_BASE, then .ai
			        timeout: 600               # seconds (or 10m) per attempt
			        stream_timeout: 60         # for streams: the wait for the first byte
			        temperature: 0.6           # defaults for fields the client leaves out:
			        max_tokens: 4096           # top_p, max_completion_tokens, presence_penalty,
			        thinking: {type: disabled} # frequency_penalty, stop, reasoning_effort
			        extra_headers: {X-Team: blue}
			        drop_params: true          # this deployment only
			        rpm: 60                    # requests a minute; at the cap it is skipped
			        tpm: 200000                # tokens a minute, likewise
			        weight: 2                  # share of the group's first picks
			        tags: [team-a]             # requests with "tags": ["team-a"] come here
			        additional_drop_params: [user]      # always removed for this deployment
			        allowed_openai_params: [logprobs]   # kept by drop_params
			        input_cost_per_token: 0.0000006     # USD, overrides the model table
			        output_cost_per_token: 0.0000025    # in X-Moonchat-Response-Cost
			        seed: 42                   # a default, like temperature
			      model_info: {id: kimi-eu}    # id names it in logs, metrics and Redis
			  - model_name: "*"                # wildcard: any other name, sent as it is
			    litellm_params: {model: "moonshot/*"}   # or "kimi-*" with moonshot/kimi-*
			  litellm_settings:
			    drop_params: true     # drop request fields Moonshot does not know (reported)
			    num_retries: 2        # extra attempts, moving through the deployments
			    request_timeout: 600  # seconds per attempt when a deployment sets none
			    fallbacks: [{kimi: [kimi-backup]}]  # when every deployment failed or is at its cap
			    context_window_fallbacks: [{moonshot-v1-8k: [moonshot-v1-32k, moonshot-v1-128k]}]
			  router_settings:
			    routing_strategy: round-robin   # default; or simple-shuffle
			    allowed_fails: 3      # failures a minute before a cooldown (LiteLLM's default)
			    cooldown_time: 5      # seconds out of rotation (LiteLLM's default)
			    redis_host: redis.internal      # share rpm/tpm and cooldowns between replicas
			    redis_port: 6379                # (or REDIS_URL=redis://...)
			    redis_password: os.environ/REDIS_PASSWORD
			  general_settings:
			    master_key: os.environ/MOONCHAT_MASTER_KEY
			  environment_variables:   # visible to os.environ/ (the process is not changed)
			    MOONSHOT_API_KEY: sk-...

			Any value written os.environ/NAME is read from the environment; a variable that is not
			set stops the server at start. Unknown keys are errors (path:line, with the closest
			known key); a few LiteLLM settings without meaning here are accepted with a note.

			Several entries with one model_name are used in turn (round-robin). A request that
			fails with 429 (rate limit, overload, quota), 5xx, a network error or a timeout before
			the client received anything moves to the next deployment at once; a deployment is
			tried again only after all the others, after a backoff (or its Retry-After), and never
			after a quota error. num_retries counts every extra attempt. A deployment at its rpm or
			tpm for the minute, or cooling down (a 429 at once, other failures after allowed_fails
			in a minute, for cooldown_time or the longer wait the upstream asked for, up to 10
			minutes; never the only deployment of a name), is skipped; when all are, the
			answer is 429 with Retry-After. Then fallbacks (or context_window_fallbacks, when the
			prompt did not fit) are tried in order; X-Moonchat-Fallback and the log name the model
			that answered. litellm_params.max_retries is refused: num_retries does the retrying.

			AUTHENTICATION: with a master key (general_settings.master_key, else
			MOONCHAT_MASTER_KEY, else LITELLM_MASTER_KEY) every route but the liveness and
			readiness probes needs "Authorization: Bearer KEY", or the key in x-api-key, api-key
			or x-litellm-api-key (LiteLLM's headers). Without one, requests are not
			authenticated and the server only listens on a loopback address, unless
			--insecure-no-auth is given.

			ROUTES
			  POST /chat/completions, /v1/chat/completions   chat, streamed or not
			  GET  /models, /v1/models, /v1/models/{name}    the model names, owned_by "moonshot"
			  GET  /health          each deployment checked with GET /models (LiteLLM's shape)
			  GET  /model/info      each deployment's model facts and prices
			  GET  /metrics         Prometheus metrics (also without a key on --metrics-addr)
			  GET  /health/liveliness, /health/readiness     no authentication

			The model facts (context, capabilities) come from the built-in model table, refined
			by the upstreams' GET /models in the background at start and every --models-refresh;
			a failure there is a warning.

			Moonshot's errors keep their status and come in OpenAI's shape
			{"error":{"message","type","param","code"}}. Each parameter change is logged and
			listed in the X-Moonchat-Adjustments response header (separated by "; ",
			percent-encoded); X-Moonchat-Upstream-Model names the model that answered, which
			is also the "model" of the answer unless model_name is an alias, whose name the
			client then gets back. A stream is relayed event by event; one that fails midway
			ends with a data: {"error":...} event, never silently; when the client asked for
			stream_options.include_usage, the usage chunk OpenAI clients expect is added if
			Moonshot sent none. A client that disconnects cancels its upstream request. A body
			with api_base, base_url or api_key is refused (400): the server's key never goes to
			a host the caller chose.

			Every answer carries X-Moonchat-Overhead-Ms, the time spent in the proxy itself
			(not waiting for Moonshot) until the answer's headers; when the usage and the price
			are known, X-Moonchat-Response-Cost is the estimated cost in USD, from the model
			table or the deployment's input_cost_per_token/output_cost_per_token (a trailer for
			streams, whose usage comes last).

			One access log line per request goes to standard error (method, path, model,
			status, latency, overhead_ms, tokens, response_cost, adjustments); keys are never
			logged. SIGINT or SIGTERM stop
			accepting connections, let open requests finish for up to --grace, then exit 0.

			EXIT STATUS
			  0    stopped by SIGINT or SIGTERM
			  1    the address cannot be listened on
			  2    bad flag or config file (path:line), or a non-loopback address without a
			       master key
			  3    no Moonshot key, or Moonshot refused it at start
		`),
		Example: cli.Doc(`
			# Every model of your key, on http://127.0.0.1:4000
			$ moonchat serve

			# LiteLLM's config file, for the whole team (a master key is required off loopback)
			$ MOONCHAT_MASTER_KEY=sk-team moonchat serve --config config.yaml --host 0.0.0.0

			# Try it without a key: the built-in emulator answers
			$ moonchat serve --offline --port 8080

			# Then, from any OpenAI client
			$ curl http://localhost:4000/v1/chat/completions -H "Authorization: Bearer sk-team" \
			    -H "Content-Type: application/json" \
			    -d '{"model":"kimi-k2.6","messages":[{"role":"user","content":"Hello"}]}'
			$ OPENAI_BASE_URL=http://localhost:4000/v1 OPENAI_API_KEY=sk-team python app.py
		`),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Host = strings.TrimSuffix(strings.TrimPrefix(opts.Host, "["), "]") // [::1] as in a URL
			if opts.Port < 0 || opts.Port > 65535 {
				return cli.Usagef("--port must be between 0 and 65535, not %d", opts.Port)
			}
			if opts.Grace < 0 {
				return cli.Usagef("--grace must not be negative")
			}
			if opts.ModelsRefresh < 0 {
				return cli.Usagef("--models-refresh must not be negative")
			}
			if opts.LogFormat != "text" && opts.LogFormat != "json" {
				return cli.Usagef("--log-format must be text or json, not %q", opts.LogFormat)
			}
			if opts.Offline && (cmd.Flags().Changed("api-base") || cmd.Flags().Changed("region")) {
				return cli.Usagef("--offline serves the built-in emulator; do not combine it with --region or --api-base")
			}
			cfg, err := f.Config()
			if err != nil {
				return err
			}
			if err := cli.ApplyAPIFlags(cmd, cfg); err != nil {
				return err
			}
			opts.Config = cfg
			if runF != nil {
				return runF(opts)
			}
			return serveRun(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&opts.ConfigFile, "config", "c", "", "LiteLLM-style config `file` (default: every model of your key)")
	fl.StringVar(&opts.Host, "host", "127.0.0.1", "address to listen on (0.0.0.0: every interface; needs a master key)")
	fl.IntVarP(&opts.Port, "port", "p", 4000, "port to listen on (0: any free port)")
	fl.DurationVar(&opts.Grace, "grace", 30*time.Second, "on SIGINT/SIGTERM, how long open requests may take to finish")
	fl.BoolVar(&opts.InsecureNoAuth, "insecure-no-auth", false, "listen on a non-loopback address without a master key")
	fl.BoolVar(&opts.Offline, "offline", false, "answer from the built-in emulator: no key, no network")
	fl.StringVar(&opts.LogFormat, "log-format", "text", "access log on stderr: text or json")
	fl.StringVar(&opts.MetricsAddr, "metrics-addr", "", "also serve GET /metrics here, without authentication (e.g. 127.0.0.1:9464)")
	fl.DurationVar(&opts.ModelsRefresh, "models-refresh", time.Hour, "how often to refresh the model facts from GET /models (0: only at start)")
	cli.AddAPIFlags(cmd)
	return cmd
}

func serveRun(ctx context.Context, opts *Options) error {
	getenv := opts.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	logger := newLogger(opts.IO.ErrOut, opts.LogFormat)

	var emu *emulator.Emulator
	if opts.Offline {
		// NoRecord: a server that runs for days must not keep every request body.
		emu = emulator.NewHandler(emulator.Config{APIKey: cli.OfflineAPIKey, NoRecord: true})
	}
	var pcfg *proxy.Config
	if opts.ConfigFile != "" {
		var err error
		pcfg, err = proxy.LoadConfig(opts.ConfigFile, proxy.LoadOptions{Getenv: getenv, Offline: opts.Offline})
		if err != nil {
			return err
		}
		if emu != nil {
			for i := range pcfg.Deployments {
				pcfg.Deployments[i].APIKey, pcfg.Deployments[i].APIBase = cli.OfflineAPIKey, emulator.OfflineBaseURL
			}
		}
	} else {
		pcfg = &proxy.Config{MasterKey: proxy.MasterKeyFromEnv(getenv), NumRetries: opts.Config.Value(config.KeyMaxRetries).Int(),
			RequestTimeout: opts.Config.Value(config.KeyTimeout).Duration(), RoutingStrategy: proxy.RoundRobin,
			Redis: proxy.RedisSettings{URL: getenv("REDIS_URL")}}
	}
	if k := pcfg.MasterKey; k != "" && (strings.TrimSpace(k) != k || strings.ContainsFunc(k, unicode.IsControl)) {
		// Clients send "Authorization: Bearer KEY", which HTTP trims: a key that is blank or
		// has spaces around it starts a server nobody can use.
		return &cli.UsageError{
			Err:  errors.New("the master key is blank, has spaces around it or control characters in it: no client could send it"),
			Hint: "set MOONCHAT_MASTER_KEY (or general_settings.master_key) to the key itself, e.g. MOONCHAT_MASTER_KEY=sk-team",
		}
	}
	if pcfg.MasterKey == "" && !isLoopback(opts.Host) && !opts.InsecureNoAuth {
		return &cli.UsageError{
			Err:  fmt.Errorf("refusing to listen on %s without a master key: anyone who can reach it could spend your Moonshot credit", opts.Host),
			Hint: "set MOONCHAT_MASTER_KEY (or general_settings.master_key in --config), listen on 127.0.0.1, or pass --insecure-no-auth behind your own authentication",
		}
	}

	httpClient, err := upstreamHTTPClient(opts, emu)
	if err != nil {
		return err
	}
	if opts.ConfigFile == "" {
		if pcfg.Deployments, err = defaultDeployments(ctx, opts, httpClient, logger); err != nil {
			return err
		}
	}
	h, err := proxy.New(pcfg, proxy.Options{HTTPClient: httpClient, Logger: logger, UserAgent: "moonchat/" + build.Short()})
	if err != nil {
		return err
	}
	defer h.Close()

	ln, err := net.Listen("tcp", net.JoinHostPort(opts.Host, strconv.Itoa(opts.Port)))
	if err != nil {
		return fmt.Errorf("cannot listen on %s: %w (is another server using the port? choose one with --port)",
			net.JoinHostPort(opts.Host, strconv.Itoa(opts.Port)), err)
	}
	var metricsSrv *http.Server
	if opts.MetricsAddr != "" {
		mln, err := net.Listen("tcp", opts.MetricsAddr)
		if err != nil {
			_ = ln.Close()
			return fmt.Errorf("cannot listen on --metrics-addr %s: %w", opts.MetricsAddr, err)
		}
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", h.Metrics())
		metricsSrv = &http.Server{Handler: mux, ReadHeaderTimeout: ReadHeaderTimeout, ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn)}
		go func() { _ = metricsSrv.Serve(mln) }()
		logger.Info("metrics", "url", "http://"+mln.Addr().String()+"/metrics")
		if opts.metricsReady != nil {
			opts.metricsReady(mln.Addr().String())
		}
	}
	for _, note := range pcfg.Notes {
		logger.Info("config note", "note", note)
	}
	// A retired id still loads (the server decides), but its deployment will likely get 404s.
	for _, d := range pcfg.Deployments {
		if spec, _ := moonshot.LookupModel(d.Model); spec.Retired != nil {
			logger.Warn("a deployment routes to a retired model", "model_name", d.ModelName, "model", d.Model,
				"line", d.Line, "retired", spec.Retired.Sentence(spec.ID))
		}
	}
	if pcfg.MasterKey == "" {
		logger.Warn("no master key: requests are not authenticated")
	}
	if pcfg.Redis.Enabled() {
		pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		where, err := h.SharedState(pctx)
		cancel()
		if err != nil {
			logger.Warn("shared state: Redis does not answer; counting rpm/tpm and cooldowns in this replica until it does", "where", where, "error", err.Error())
		} else {
			logger.Info("shared state", "where", where)
		}
	}
	names := h.ModelNames()
	logger.Info("listening", "url", "http://"+ln.Addr().String(), "models", len(names), "deployments", len(pcfg.Deployments),
		"auth", pcfg.MasterKey != "", "offline", opts.Offline, "names", strings.Join(names, ","))

	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: ReadHeaderTimeout,
		ReadTimeout:       ReadTimeout, // the request only: it does not cut a long answer
		IdleTimeout:       IdleTimeout,
		MaxHeaderBytes:    1 << 20,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	if opts.shutdownStarted != nil {
		srv.RegisterOnShutdown(opts.shutdownStarted)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	// The model facts are refreshed in the background, so the server is ready at once. Without
	// --config the deployments were just built from GET /models.
	refreshed := make(chan struct{})
	go func() {
		defer close(refreshed)
		if opts.ConfigFile != "" {
			refreshModels(ctx, h, logger)
		}
		if opts.modelsRefreshed != nil {
			opts.modelsRefreshed()
		}
		if opts.ModelsRefresh <= 0 {
			return
		}
		t := time.NewTicker(opts.ModelsRefresh)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				refreshModels(ctx, h, logger)
			}
		}
	}()
	if opts.ready != nil {
		opts.ready(ln.Addr().String())
	}

	select {
	case err := <-served:
		if metricsSrv != nil {
			_ = metricsSrv.Close()
		}
		return err
	case <-ctx.Done():
	}
	// The root context ends on SIGINT/SIGTERM. Open requests run on their own contexts (the
	// server's base context is not this one), so they go on while Shutdown waits for them.
	logger.Info("shutting down: no new connections; waiting for open requests", "grace", opts.Grace.String())
	sctx, cancel := context.WithTimeout(context.Background(), opts.Grace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		logger.Warn("grace period over; closing the remaining connections")
		_ = srv.Close()
	}
	<-served
	<-refreshed
	if metricsSrv != nil {
		_ = metricsSrv.Close()
	}
	logger.Info("stopped")
	return nil
}

// refreshModels refines the model facts from the upstreams' GET /models. A failure is a
// warning: the built-in model table stands in.
func refreshModels(ctx context.Context, h *proxy.Handler, logger *slog.Logger) {
	rctx, cancel := context.WithTimeout(ctx, listModelsTimeout)
	defer cancel()
	if err := h.RefreshModels(rctx); err != nil && ctx.Err() == nil {
		logger.Warn("could not refresh the model facts from GET /models; using the built-in model table", "error", err.Error())
	}
}

func newLogger(w io.Writer, format string) *slog.Logger {
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, nil))
	}
	return slog.New(slog.NewTextHandler(w, nil))
}

// isLoopback reports an address only this machine can reach. A host name other than
// localhost counts as reachable from elsewhere: it may resolve to any interface.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}

// upstreamHTTPClient is the emulator's in-process client offline, else the usual client with
// the proxy settings (HTTPS_PROXY, --proxy, config).
func upstreamHTTPClient(opts *Options, emu *emulator.Emulator) (*http.Client, error) {
	if emu != nil {
		return emu.Client(), nil
	}
	return opts.Factory.HTTPClient(opts.Config.Value(config.KeyProxy).Raw)
}

// defaultDeployments serves every model the key can use under its own name. The server's list
// is the truth; when it cannot be had, the built-in table stands in, and the log says so.
func defaultDeployments(ctx context.Context, opts *Options, hc *http.Client, logger *slog.Logger) ([]proxy.Deployment, error) {
	key, base := opts.Config.Value(config.KeyAPIKey).Raw, opts.Config.APIBase()
	if opts.Offline {
		key, base = cli.OfflineAPIKey, emulator.OfflineBaseURL
	}
	if key == "" {
		return nil, moonshot.ErrMissingAPIKey
	}
	noRetries := 0
	client, err := moonshot.NewClient(moonshot.Options{APIKey: key, BaseURL: base, HTTPClient: hc, MaxRetries: &noRetries,
		UserAgent: "moonchat/" + build.Short()})
	if err != nil {
		return nil, &cli.UsageError{Err: fmt.Errorf("api_base: %w", err)}
	}
	lctx, cancel := context.WithTimeout(ctx, listModelsTimeout)
	defer cancel()
	remote, err := client.Models(lctx)
	var out []proxy.Deployment
	switch {
	case err == nil && len(remote) > 0:
		for i := range remote {
			m := remote[i]
			out = append(out, proxy.Deployment{ModelName: m.ID, Model: m.ID, APIKey: key, APIBase: base, Remote: &m})
		}
		return out, nil
	case moonshot.IsAuth(err) || moonshot.IsQuota(err) || ctx.Err() != nil:
		// Every request would fail the same way: say it now.
		return nil, err
	}
	reason := "the list is empty"
	if err != nil {
		reason = err.Error()
	}
	for _, m := range moonshot.CurrentModels() {
		out = append(out, proxy.Deployment{ModelName: m.ID, Model: m.ID, APIKey: key, APIBase: base})
	}
	logger.Warn("could not list Moonshot's models; serving the built-in list", "error", reason, "models", len(out))
	return out, nil
}
