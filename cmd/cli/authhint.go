package cli

import (
	"errors"

	"github.com/moonchat/moonchat/pkg/config"
	"github.com/moonchat/moonchat/pkg/moonshot"
)

// DescribeFor is Describe with the settings the command ran with: a refused key's hint
// names where the key came from (the same origins `config list --origin` shows) and, when
// api_base overrides the region, says so instead of suggesting --region. cfg may be nil.
func DescribeFor(err error, cfg *config.Config) (msg, hint string) {
	if cfg == nil {
		return Describe(err, "")
	}
	msg, hint = Describe(err, cfg.Value(config.KeyRegion).Raw)
	var ue *UsageError
	if errors.As(err, &ue) && ue.Hint != "" {
		return msg, hint
	}
	var apiErr *moonshot.APIError
	if errors.As(err, &apiErr) && apiErr.Type == moonshot.ErrTypeMissingAPIKey || !moonshot.IsAuth(err) {
		return msg, hint
	}
	return msg, authHint(cfg)
}

// authHint is what to check when the key is refused.
func authHint(cfg *config.Config) string {
	key := cfg.Value(config.KeyAPIKey)
	from := "the key"
	switch key.Origin {
	case config.OriginEnv:
		from = "the key comes from $" + key.Source
	case config.OriginFile:
		from = "the key comes from " + key.Source
	case config.OriginFlag:
		from = "the key comes from a flag"
	}
	hint := from + "; check it, or set up another with `moonchat config init`. "
	if base := cfg.Value(config.KeyAPIBase); base.IsSet() {
		origin := base.Source
		switch base.Origin {
		case config.OriginEnv:
			origin = "$" + origin
		case config.OriginFlag:
			origin = "--api-base"
		}
		return hint + "Requests go to " + base.String() + " (api_base, from " + origin + "), which overrides the region: the key must be for that server"
	}
	other := "--region cn (platform.moonshot.cn)"
	if cfg.Value(config.KeyRegion).Raw == "cn" {
		other = "--region global (platform.moonshot.ai)"
	}
	return hint + "Keys of api.moonshot.ai and api.moonshot.cn are not interchangeable: if your key is from the other platform, use " + other
}
