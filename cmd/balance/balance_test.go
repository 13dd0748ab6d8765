package balance

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/moonchat/moonchat/cmd/cli"
	"github.com/moonchat/moonchat/pkg/config"
	"github.com/moonchat/moonchat/pkg/emulator"
	"github.com/moonchat/moonchat/pkg/iostreams"
)

const testKey = "sk-balance-test-0123456789"

func isolate(t *testing.T) {
	t.Helper()
	dir := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", dir)
	t.Setenv("HOME", dir)
	t.Setenv("MOONCHAT_CONFIG", "")
	for _, k := range config.Keys() {
		for _, name := range k.Env {
			t.Setenv(name, "")
		}
	}
	for _, v := range []string{"HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "https_proxy", "http_proxy", "all_proxy"} {
		t.Setenv(v, "")
	}
}

func serve(t *testing.T, b emulator.Balance) *emulator.Server {
	t.Helper()
	isolate(t)
	srv, err := emulator.Start(emulator.Config{APIKey: testKey, Balance: b})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	t.Setenv("MOONSHOT_API_BASE", srv.URL)
	t.Setenv("MOONSHOT_API_KEY", testKey)
	return srv
}

type result struct {
	out, errOut string
	err         error
}

func run(t *testing.T, tty bool, args ...string) result {
	t.Helper()
	ios, _, out, errOut := iostreams.Test()
	ios.SetStdoutTTY(tty)
	cmd := NewCmdBalance(cli.New(ios), nil)
	cmd.SetArgs(args)
	cmd.SetOut(&bytes.Buffer{})
	cmd.SetErr(&bytes.Buffer{})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	err := cmd.ExecuteContext(ctx)
	return result{out.String(), errOut.String(), err}
}

var docExample = emulator.Balance{Available: 49.58894, Voucher: 46.58893, Cash: 3.00001}

func TestTerminal(t *testing.T) {
	srv := serve(t, docExample)
	r := run(t, true)
	want := "available  49.59  USD\nvoucher    46.59  USD\ncash        3.00  USD\n"
	if r.err != nil || r.out != want || r.errOut != "" {
		t.Fatalf("err %v\nstdout %q\nwant   %q\nstderr %q", r.err, r.out, want, r.errOut)
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
	if r.err != nil || r.out != want {
		t.Fatalf("err %v, stdout %q", r.err, r.out)
	}
}

func TestJSON(t *testing.T) {
	serve(t, docExample)
	for _, tty := range []bool{false, true} {
		r := run(t, tty, "--json")
		var got map[string]any
		if r.err != nil || json.Unmarshal([]byte(r.out), &got) != nil {
			t.Fatalf("err %v, stdout %q", r.err, r.out)
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
	if r.err != nil || json.Unmarshal([]byte(r.out), &got) != nil || got["currency"] != "CNY" {
		t.Errorf("--region cn: %v %s", r.err, r.out)
	}
	// A region from the environment counts the same.
	t.Setenv("MOONCHAT_REGION", "cn")
	if r := run(t, false); !strings.HasSuffix(r.out, "cash 3.00001 CNY\n") {
		t.Errorf("region cn from the environment: %q", r.out)
	}
}

func TestUsedUpBalanceWarns(t *testing.T) {
	serve(t, emulator.Balance{Available: -0.5, Voucher: 0, Cash: -0.5})
	r := run(t, false)
	if r.err != nil || !strings.HasPrefix(r.out, "available -0.5 USD\n") {
		t.Fatalf("err %v, stdout %q", r.err, r.out)
	}
	if !strings.Contains(r.errOut, "used up") || strings.Contains(r.out, "used up") {
		t.Errorf("warning missing from stderr or on stdout: stderr %q", r.errOut)
	}
}

func TestOfflineNeedsNoKey(t *testing.T) {
	isolate(t)
	t.Setenv("MOONSHOT_API_BASE", "http://127.0.0.1:1/v1") // fails if used
	r := run(t, false, "--offline")
	if r.err != nil || !strings.HasPrefix(r.out, "available ") {
		t.Errorf("offline: %v, %q", r.err, r.out)
	}
}

func TestErrors(t *testing.T) {
	serve(t, docExample)
	t.Setenv("MOONSHOT_API_KEY", "sk-wrong")
	if r := run(t, true); cli.ExitCode(r.err) != cli.ExitAuth || r.out != "" {
		t.Errorf("wrong key: %v, stdout %q", r.err, r.out)
	}
	t.Setenv("MOONSHOT_API_KEY", "")
	if r := run(t, true); cli.ExitCode(r.err) != cli.ExitAuth {
		t.Errorf("missing key: %v", r.err)
	}
	t.Setenv("MOONSHOT_API_KEY", testKey)
	if r := run(t, true, "--proxy", "gopher://x:70"); cli.ExitCode(r.err) != cli.ExitUsage {
		t.Errorf("bad --proxy: %v", r.err)
	}
}
