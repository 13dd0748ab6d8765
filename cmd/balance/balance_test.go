package balance

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/moonchat/moonchat/cmd/cli"
	"github.com/moonchat/moonchat/internal/clitest"
	"github.com/moonchat/moonchat/pkg/emulator"
)

const testKey = "sk-balance-test-0123456789"

func serve(t *testing.T, b emulator.Balance) *emulator.Server {
	t.Helper()
	return clitest.Serve(t, emulator.Config{APIKey: testKey, Balance: b})
}

func run(t *testing.T, tty bool, args ...string) clitest.Result {
	t.Helper()
	s := clitest.NewStreams("")
	s.IO.SetStdoutTTY(tty)
	return s.Run(t, NewCmdBalance(cli.New(s.IO), nil), args...)
}

var docExample = emulator.Balance{Available: 49.58894, Voucher: 46.58893, Cash: 3.00001}

func TestTerminal(t *testing.T) {
	srv := serve(t, docExample)
	r := run(t, true)
	want := "available  49.59  USD\nvoucher    46.59  USD\ncash        3.00  USD\n"
	if r.Err != nil || r.Out != want || r.ErrOut != "" {
		t.Fatalf("err %v\nstdout %q\nwant   %q\nstderr %q", r.Err, r.Out, want, r.ErrOut)
	}
	reqs := srv.Requests()
	if len(reqs) != 1 || reqs[0].Method != "GET" || reqs[0].Path != "/v1/users/me/balance" {
		t.Errorf("requests: %+v", reqs)
	}
}

func TestPipedIsExact(t *testing.T) {
	serve(t, docExample)
	r := run(t, false)
	want := "available 49.58894 USD\nvoucher 46.58893 USD\ncash 3.00001 USD\n"
	if r.Err != nil || r.Out != want {
		t.Fatalf("err %v, stdout %q", r.Err, r.Out)
	}
}

func TestJSON(t *testing.T) {
	serve(t, docExample)
	for _, tty := range []bool{false, true} {
		r := run(t, tty, "--json")
		var got map[string]any
		if r.Err != nil || json.Unmarshal([]byte(r.Out), &got) != nil {
			t.Fatalf("err %v, stdout %q", r.Err, r.Out)
		}
		if got["available"] != 49.58894 || got["voucher"] != 46.58893 || got["cash"] != 3.00001 || got["currency"] != "USD" || len(got) != 4 {
			t.Errorf("JSON = %v", got)
		}
	}
}

func TestCurrencyFollowsPlatform(t *testing.T) {
	serve(t, docExample)
	r := run(t, false, "--json", "--region", "cn")
	var got map[string]any
	if r.Err != nil || json.Unmarshal([]byte(r.Out), &got) != nil || got["currency"] != "CNY" {
		t.Errorf("--region cn: %v %s", r.Err, r.Out)
	}
	// A region from the environment counts the same.
	t.Setenv("MOONCHAT_REGION", "cn")
	if r := run(t, false); !strings.HasSuffix(r.Out, "cash 3.00001 CNY\n") {
		t.Errorf("region cn from the environment: %q", r.Out)
	}
}

func TestUsedUpBalanceWarns(t *testing.T) {
	serve(t, emulator.Balance{Available: -0.5, Voucher: 0, Cash: -0.5})
	r := run(t, false)
	if r.Err != nil || !strings.HasPrefix(r.Out, "available -0.5 USD\n") {
		t.Fatalf("err %v, stdout %q", r.Err, r.Out)
	}
	if !strings.Contains(r.ErrOut, "used up") || strings.Contains(r.Out, "used up") {
		t.Errorf("warning missing from stderr or on stdout: stderr %q", r.ErrOut)
	}
}

func TestOfflineNeedsNoKey(t *testing.T) {
	clitest.Isolate(t)
	t.Setenv("MOONSHOT_API_BASE", "http://127.0.0.1:1/v1") // fails if used
	r := run(t, false, "--offline")
	if r.Err != nil || !strings.HasPrefix(r.Out, "available ") {
		t.Errorf("offline: %v, %q", r.Err, r.Out)
	}
}

func TestErrors(t *testing.T) {
	serve(t, docExample)
	t.Setenv("MOONSHOT_API_KEY", "sk-wrong")
	if r := run(t, true); cli.ExitCode(r.Err) != cli.ExitAuth || r.Out != "" {
		t.Errorf("wrong key: %v, stdout %q", r.Err, r.Out)
	}
	t.Setenv("MOONSHOT_API_KEY", "")
	if r := run(t, true); cli.ExitCode(r.Err) != cli.ExitAuth {
		t.Errorf("missing key: %v", r.Err)
	}
	t.Setenv("MOONSHOT_API_KEY", testKey)
	if r := run(t, true, "--proxy", "gopher://x:70"); cli.ExitCode(r.Err) != cli.ExitUsage {
		t.Errorf("bad --proxy: %v", r.Err)
	}
}
