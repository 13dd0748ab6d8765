package cli

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/moonchat/moonchat/pkg/config"
)

// FlagKey ties a command-line flag to the config key it sets.
type FlagKey struct{ Flag, Key string }

// apiFlags are the flags that choose where requests go.
var apiFlags = []FlagKey{
	{"region", "region"},
	{"api-base", "api_base"},
	{"proxy", "proxy"},
}

// AddAPIFlags adds --region, --api-base and --proxy, which every command that calls the API
// takes; ApplyAPIFlags feeds the ones given into the settings.
func AddAPIFlags(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.String("region", "global", "platform: global (api.moonshot.ai) or cn (api.moonshot.cn)")
	fl.String("api-base", "", "API base URL (overrides --region)")
	fl.String("proxy", "", "proxy URL: http://, https://, socks5://, socks5h:// (default: HTTPS_PROXY, ALL_PROXY)")
}

// ApplyAPIFlags records the API flags that were given on the command line in cfg, where they
// win over the environment and the file. A bad value is a usage error naming the flag.
func ApplyAPIFlags(cmd *cobra.Command, cfg *config.Config) error {
	return applyFlags(cmd, cfg, apiFlags)
}

// Settings loads the settings of cmd: the file and the environment, with the API flags and
// the flags of extra that were given on the command line applied over them, in that order.
// A bad flag value is a usage error naming the flag.
func Settings(cmd *cobra.Command, f *Factory, extra ...FlagKey) (*config.Config, error) {
	cfg, err := f.Config()
	if err != nil {
		return nil, err
	}
	if err := applyFlags(cmd, cfg, append(slices.Clone(apiFlags), extra...)); err != nil {
		return nil, err
	}
	return cfg, nil
}

func applyFlags(cmd *cobra.Command, cfg *config.Config, keys []FlagKey) error {
	flags := cmd.Flags()
	for _, m := range keys {
		if !flags.Changed(m.Flag) {
			continue
		}
		if err := cfg.SetFlag(m.Key, flags.Lookup(m.Flag).Value.String()); err != nil {
			return &UsageError{Err: fmt.Errorf("--%s: %w", m.Flag, err)}
		}
	}
	return nil
}

// Currency is the currency the configured platform bills in: CNY on platform.moonshot.cn, USD
// on platform.moonshot.ai. The API base's host decides when it is one of Moonshot's; for any
// other base (a gateway, the emulator) the region setting does.
func Currency(cfg *config.Config) string {
	if u, err := url.Parse(cfg.APIBase()); err == nil {
		host := strings.ToLower(u.Hostname())
		switch {
		case host == "moonshot.cn" || strings.HasSuffix(host, ".moonshot.cn"):
			return "CNY"
		case host == "moonshot.ai" || strings.HasSuffix(host, ".moonshot.ai"):
			return "USD"
		}
	}
	if cfg.Value(config.KeyRegion).Raw == "cn" {
		return "CNY"
	}
	return "USD"
}

// WithTimeout bounds a command's requests by the timeout setting (0 means no limit). When the
// limit is hit, TimeoutCause turns the bare deadline error into one that names the setting.
func WithTimeout(ctx context.Context, cfg *config.Config) (context.Context, context.CancelFunc) {
	d := cfg.Value(config.KeyTimeout).Duration()
	if d <= 0 {
		return context.WithCancel(ctx)
	}
	return context.WithTimeoutCause(ctx, d, fmt.Errorf("no answer within the timeout of %s: %w", d, context.DeadlineExceeded))
}

// TimeoutCause returns the reason ctx ended when err is its deadline, else err.
func TimeoutCause(ctx context.Context, err error) error {
	if errors.Is(err, context.DeadlineExceeded) {
		if cause := context.Cause(ctx); cause != nil {
			return cause
		}
	}
	return err
}
