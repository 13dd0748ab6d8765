package cli

import (
	"errors"
	"fmt"
	"testing"

	"github.com/moonchat/moonchat/internal/clitest"
	"github.com/moonchat/moonchat/pkg/iostreams"
	"github.com/moonchat/moonchat/pkg/moonshot"
)

func TestReportErrorPrintsWhatTheUserSees(t *testing.T) {
	clitest.Isolate(t)
	t.Setenv("MOONSHOT_API_KEY", "sk-from-the-env-0123456789")
	refused := &moonshot.APIError{StatusCode: 401, Type: "invalid_authentication_error", Message: "Invalid Authentication"}
	hostile := &moonshot.APIError{StatusCode: 500, Type: "server_error", Message: "boom \x1b]0;pwned\x07\x1b[2J"}
	tests := []struct {
		name      string
		err       error
		stderrTTY bool
		want      string
		code      int
	}{
		{"success", nil, false, "", ExitOK},
		{"already reported", &ExitError{Code: ExitTemporary}, false, "", ExitTemporary},
		{"usage with its hint", &UsageError{Err: errors.New("unknown flag: --nope"), Hint: "run 'moonchat --help' for usage"}, false,
			"moonchat: unknown flag: --nope\n  hint: run 'moonchat --help' for usage\n", ExitUsage},
		{"refused key names where the key comes from", fmt.Errorf("chat: %w", refused), false,
			"moonchat: 401 invalid_authentication_error: Invalid Authentication\n  hint: the key comes from $MOONSHOT_API_KEY; check it, or set up another with `moonchat config init`. Keys of api.moonshot.ai and api.moonshot.cn are not interchangeable: if your key is from the other platform, use --region cn (platform.moonshot.cn)\n", ExitAuth},
		{"no escape sequence from upstream reaches a terminal", hostile, true,
			"moonchat: 500 server_error: boom \n  hint: Moonshot is busy or unreachable; try again later, raise --max-retries, or check your proxy settings\n", ExitTemporary},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ios, _, _, errOut := iostreams.Test()
			ios.SetStderrTTY(tc.stderrTTY)
			code := ReportError(New(ios), tc.err)
			if got := errOut.String(); got != tc.want || code != tc.code {
				t.Errorf("printed %q, exit %d\nwant    %q, exit %d", got, code, tc.want, tc.code)
			}
		})
	}
}
