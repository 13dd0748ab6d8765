package cli

import (
	"strings"
	"testing"

	"github.com/moonchat/moonchat/internal/clitest"
	"github.com/moonchat/moonchat/pkg/config"
	"github.com/moonchat/moonchat/pkg/moonshot"
)

func TestAuthHintNamesTheKeysOrigin(t *testing.T) {
	path := clitest.Isolate(t)
	clitest.WriteFile(t, path, "region: cn\napi_key: sk-from-the-file-0123456789\n")
	refused := &moonshot.APIError{StatusCode: 401, Type: "invalid_authentication_error", Message: "Invalid Authentication"}
	load := func() *config.Config {
		cfg, err := config.Load()
		if err != nil {
			t.Fatal(err)
		}
		return cfg
	}
	// From the file, on cn, no API base: the line, and the other platform.
	_, hint := DescribeFor(refused, load())
	if !strings.HasPrefix(hint, "the key comes from "+path+":2; ") || !strings.Contains(hint, "use --region global (platform.moonshot.ai)") {
		t.Errorf("file origin: %q", hint)
	}
	// From the environment, with an API base that overrides the region: no --region advice.
	t.Setenv("MOONSHOT_API_KEY", "sk-from-the-env-0123456789")
	t.Setenv("MOONSHOT_API_BASE", "https://kimi.example.com/v1")
	_, hint = DescribeFor(refused, load())
	if !strings.HasPrefix(hint, "the key comes from $MOONSHOT_API_KEY; ") ||
		!strings.Contains(hint, "Requests go to https://kimi.example.com/v1 (api_base, from $MOONSHOT_API_BASE), which overrides the region") ||
		strings.Contains(hint, "--region") {
		t.Errorf("environment origin: %q", hint)
	}
	// Nothing secret in it, and no config means the plain hint.
	if strings.Contains(hint, "sk-from") {
		t.Errorf("the key is in the hint: %q", hint)
	}
	if _, plain := DescribeFor(refused, nil); !strings.Contains(plain, "--region cn") {
		t.Errorf("without settings: %q", plain)
	}
	// No key at all: config init.
	missing := &moonshot.APIError{StatusCode: 401, Type: moonshot.ErrTypeMissingAPIKey}
	if msg, hint := DescribeFor(missing, load()); msg != "no Moonshot API key is set" || !strings.HasPrefix(hint, "run `moonchat config init`") {
		t.Errorf("missing key: %q %q", msg, hint)
	}
}
