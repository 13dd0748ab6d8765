package models

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/moonchat/moonchat/cmd/cli"
	"github.com/moonchat/moonchat/internal/clitest"
	"github.com/moonchat/moonchat/pkg/config"
	"github.com/moonchat/moonchat/pkg/emulator"
	"github.com/moonchat/moonchat/pkg/iostreams"
)

const testKey = "sk-models-test-0123456789"

// serve starts an emulator with the given models (nil = its defaults) and points the
// environment at it.
func serve(t *testing.T, models []emulator.Model) *emulator.Server {
	t.Helper()
	return clitest.Serve(t, emulator.Config{APIKey: testKey, Models: models})
}

func run(t *testing.T, tty bool, args ...string) clitest.Result {
	t.Helper()
	s := clitest.NewStreams("")
	s.IO.SetStdoutTTY(tty)
	return s.Run(t, NewCmdModels(cli.New(s.IO), nil), args...)
}

// served is a small account: two models of the table, one it marks discontinued, and one it
// does not know.
var served = []emulator.Model{
	{ID: "kimi-k2.6", ContextLength: 262144, Vision: true, Video: true, Reasoning: true, Family: emulator.FamilyFixed},
	{ID: "moonshot-v1-8k", ContextLength: 8192, Family: emulator.FamilyLegacy},
	{ID: "kimi-thinking-preview", ContextLength: 131072, Vision: true, Reasoning: true, Family: emulator.FamilyThinking},
	{ID: "acme-custom-1", ContextLength: 65536, Reasoning: true},
}

func TestPipedPrintsOneIDPerLine(t *testing.T) {
	srv := serve(t, served)
	r := run(t, false)
	if r.Err != nil {
		t.Fatal(r.Err)
	}
	// In the server's order; table models the key cannot use are not listed.
	if want := "kimi-k2.6\nmoonshot-v1-8k\nkimi-thinking-preview\nacme-custom-1\n"; r.Out != want {
		t.Errorf("stdout = %q, want %q", r.Out, want)
	}
	if r.ErrOut != "" {
		t.Errorf("stderr = %q", r.ErrOut)
	}
	reqs := srv.Requests()
	if len(reqs) != 1 || reqs[0].Method != "GET" || reqs[0].Path != "/v1/models" {
		t.Errorf("requests: %+v", reqs)
	}
}

func runWide(t *testing.T, width int, args ...string) clitest.Result {
	t.Helper()
	s := clitest.NewStreams("")
	s.IO.SetStdoutTTY(true)
	s.IO.SetWrap(width)
	return s.Run(t, NewCmdModels(cli.New(s.IO), nil), args...)
}

func TestTerminalTable(t *testing.T) {
	serve(t, served)
	r := runWide(t, 160)
	if r.Err != nil {
		t.Fatal(r.Err)
	}
	lines := strings.Split(strings.TrimSuffix(r.Out, "\n"), "\n")
	if len(lines) != 8 {
		t.Fatalf("%d lines:\n%s", len(lines), r.Out)
	}
	fields := func(i int) []string { return strings.Fields(lines[i]) }
	if h := strings.Join(fields(0), " "); h != "MODEL CONTEXT CAPABILITIES CACHE HIT INPUT OUTPUT NOTES" {
		t.Errorf("header = %q", lines[0])
	}
	checks := []struct {
		line int
		want string
	}{
		// kimi-k2.6's prices are third-party figures: marked.
		{1, "kimi-k2.6 256k tools, vision, video, thinking 0.16* 0.95* 4.00*"},
		{2, "moonshot-v1-8k 8k tools — 0.20 2.00 use kimi-k2.6 (retired 2026-08-31*)"},
		{3, "kimi-thinking-preview 128k vision, thinking — — — use kimi-k2.6 (retired 2025-11-11)"},
		{4, "acme-custom-1 64k tools, thinking — — — unknown to moonchat"},
	}
	for _, c := range checks {
		if got := strings.Join(fields(c.line), " "); got != c.want {
			t.Errorf("line %d = %q, want %q", c.line, got, c.want)
		}
	}
	// The columns line up: every row starts its CONTEXT column's last digit at the same place.
	end := strings.Index(lines[0], "CONTEXT") + len("CONTEXT")
	for _, l := range lines[1:5] {
		if l[end-1] != 'k' {
			t.Errorf("context not right-aligned under its header:\n%s\n%s", lines[0], l)
		}
	}
	if lines[5] != "" || lines[6] != "Prices in USD per 1M tokens." || !strings.HasPrefix(lines[7], "* third-party figure") {
		t.Errorf("footer = %q", lines[5:])
	}
}

// TestTableFitsTheTerminal: at any width no row is wider than the terminal (a terminal would
// wrap it), the ids stay whole while there is room for them, and letters are explained.
func TestTableFitsTheTerminal(t *testing.T) {
	serve(t, served)
	for _, width := range []int{100, 80, 60, 48, 30} {
		r := runWide(t, width)
		if r.Err != nil {
			t.Fatal(r.Err)
		}
		table, _, _ := strings.Cut(r.Out, "\n\n")
		for _, l := range strings.Split(table, "\n") {
			if n := utf8.RuneCountInString(l); n > width {
				t.Errorf("width %d: a %d-column row:\n%s", width, n, r.Out)
			}
		}
		if width >= 60 && !strings.Contains(table, "kimi-thinking-preview") {
			t.Errorf("width %d: an id was cut:\n%s", width, r.Out)
		}
		if strings.Contains(table, "CAPS") != strings.Contains(r.Out, "CAPS: T tools") {
			t.Errorf("width %d: abbreviations not explained:\n%s", width, r.Out)
		}
	}
	r := runWide(t, 80)
	if !strings.Contains(r.Out, "use kimi-k2.6") {
		t.Errorf("at 80 columns the replacement of a retired model is cut:\n%s", r.Out)
	}
}

func TestTerminalTableOnChinaPlatform(t *testing.T) {
	serve(t, served)
	r := runWide(t, 160, "--region", "cn")
	if r.Err != nil {
		t.Fatal(r.Err)
	}
	if !strings.Contains(r.Out, "\nPrices in USD per 1M tokens. Your platform bills in CNY; see its pricing page for the local prices.\n") {
		t.Errorf("footer does not warn about CNY:\n%s", r.Out)
	}
}

func TestJSON(t *testing.T) {
	serve(t, served)
	for _, tty := range []bool{false, true} {
		r := run(t, tty, "--json")
		if r.Err != nil {
			t.Fatal(r.Err)
		}
		var got []map[string]any
		if err := json.Unmarshal([]byte(r.Out), &got); err != nil {
			t.Fatalf("not JSON: %v\n%s", err, r.Out)
		}
		if len(got) != 4 {
			t.Fatalf("%d models", len(got))
		}
		k26 := got[0]
		price, _ := k26["price"].(map[string]any)
		if k26["id"] != "kimi-k2.6" || k26["context_length"] != 262144.0 || k26["vision"] != true || k26["video"] != true ||
			k26["tools"] != true || k26["thinking"] != "switchable" || k26["retired"] != nil || k26["builtin"] != true || price["third_party"] != true ||
			k26["owned_by"] != "moonshot" || price["currency"] != "USD" || price["input"] != 0.95 ||
			price["input_cache_hit"] != 0.16 || price["output"] != 4.0 {
			t.Errorf("kimi-k2.6 = %v", k26)
		}
		if v8 := got[1]; v8["thinking"] != "none" || v8["vision"] != false || v8["context_length"] != 8192.0 || v8["retired"].(map[string]any)["third_party"] != true {
			t.Errorf("moonshot-v1-8k = %v", v8)
		}
		ret, _ := got[2]["retired"].(map[string]any)
		if tp := got[2]; ret["date"] != "2025-11-11" || ret["replacement"] != "kimi-k2.6" || ret["third_party"] != false || tp["thinking"] != "always" || tp["price"] != nil {
			t.Errorf("kimi-thinking-preview = %v", tp)
		}
		// Unknown to the table: the server's facts, no price, not builtin.
		if c := got[3]; c["builtin"] != false || c["price"] != nil || c["context_length"] != 65536.0 || c["thinking"] != "always" {
			t.Errorf("acme-custom-1 = %v", c)
		}
	}
}

func TestServerContextWins(t *testing.T) {
	serve(t, []emulator.Model{{ID: "moonshot-v1-8k", ContextLength: 16384, Vision: true}})
	r := run(t, false, "--json")
	if r.Err != nil {
		t.Fatal(r.Err)
	}
	var got []map[string]any
	if err := json.Unmarshal([]byte(r.Out), &got); err != nil {
		t.Fatal(err)
	}
	if got[0]["context_length"] != 16384.0 || got[0]["vision"] != true {
		t.Errorf("the server's facts did not win: %v", got[0])
	}
}

func TestOfflineNeedsNoKeyNorNetwork(t *testing.T) {
	clitest.Isolate(t)
	t.Setenv("MOONSHOT_API_BASE", "http://127.0.0.1:1/v1") // fails if used
	r := run(t, false, "--offline")
	if r.Err != nil {
		t.Fatal(r.Err)
	}
	ids := strings.Fields(r.Out)
	if len(ids) != len(emulator.DefaultModels()) || ids[0] != emulator.DefaultModels()[0].ID {
		t.Errorf("offline list = %q", ids)
	}
	if r = run(t, false, "--offline", "--json"); r.Err != nil || !json.Valid([]byte(r.Out)) {
		t.Errorf("offline --json: %v\n%s", r.Err, r.Out)
	}
}

func TestErrors(t *testing.T) {
	serve(t, nil)
	t.Setenv("MOONSHOT_API_KEY", "")
	if r := run(t, false); cli.ExitCode(r.Err) != cli.ExitAuth {
		t.Errorf("missing key: %v (exit %d)", r.Err, cli.ExitCode(r.Err))
	}
	t.Setenv("MOONSHOT_API_KEY", "sk-wrong")
	if r := run(t, false); cli.ExitCode(r.Err) != cli.ExitAuth || r.Out != "" {
		t.Errorf("wrong key: %v (exit %d), stdout %q", r.Err, cli.ExitCode(r.Err), r.Out)
	}
	t.Setenv("MOONSHOT_API_KEY", testKey)
	if r := run(t, false, "--region", "mars"); cli.ExitCode(r.Err) != cli.ExitUsage {
		t.Errorf("--region mars: %v", r.Err)
	}
	if r := run(t, false, "extra"); r.Err == nil {
		t.Error("an argument was accepted")
	}
}

func TestFlags(t *testing.T) {
	clitest.Isolate(t)
	t.Setenv("MOONCHAT_REGION", "cn")
	ios, _, _, _ := iostreams.Test()
	var got *Options
	cmd := NewCmdModels(cli.New(ios), func(o *Options) error { got = o; return nil })
	cmd.SetArgs([]string{"--json", "--offline", "--api-base", "http://127.0.0.1:9/v1"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if !got.JSON || !got.Offline {
		t.Errorf("options = %+v", got)
	}
	if v := got.Config.Value("api_base"); v.Raw != "http://127.0.0.1:9/v1" || v.Origin != config.OriginFlag {
		t.Errorf("api_base = %+v", v)
	}
	if v := got.Config.Value("region"); v.Origin != config.OriginEnv {
		t.Errorf("an unset --region overrode the environment: %+v", v)
	}
}
