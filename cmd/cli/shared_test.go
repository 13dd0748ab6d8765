package cli

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/moonchat/moonchat/internal/clitest"
	"github.com/moonchat/moonchat/pkg/config"
	"github.com/moonchat/moonchat/pkg/iostreams"
	"github.com/moonchat/moonchat/pkg/moonshot"
)

func TestCompleteModels(t *testing.T) {
	path := clitest.Isolate(t)
	ios, _, _, _ := iostreams.Test()

	got, dir := CompleteModels(New(ios))(nil, nil, "")
	if dir != cobra.ShellCompDirectiveNoFileComp {
		t.Errorf("directive = %v", dir)
	}
	ids := map[string]string{}
	for _, c := range got {
		id, desc, _ := strings.Cut(c, "\t")
		ids[id] = desc
	}
	if _, ok := ids["auto"]; !ok {
		t.Error("auto is not offered")
	}
	for _, m := range moonshot.KnownModels() {
		_, offered := ids[m.ID]
		if offered != (m.Retired == nil) {
			t.Errorf("%s offered = %v (retired %v)", m.ID, offered, m.Retired)
		}
	}
	if d := ids["kimi-k2.6"]; d != "256k context, tools, vision, video, thinking" {
		t.Errorf("kimi-k2.6 described as %q", d)
	}

	got, _ = CompleteModels(New(ios))(nil, nil, "kimi-k3")
	if len(got) != 3 || !strings.HasPrefix(got[0], "kimi-k3.1-pro\t") || !strings.HasPrefix(got[1], "kimi-k3.1-pro-highspeed\t") || !strings.HasPrefix(got[2], "kimi-k3\t") {
		t.Errorf("prefix kimi-k3 completes to %q", got)
	}
	// Retired models are not offered: Moonshot answers 404.
	if got, _ = CompleteModels(New(ios))(nil, nil, "moonshot-v1"); len(got) != 0 {
		t.Errorf("prefix moonshot-v1 completes to %q", got)
	}

	// A model configured by the user is offered even when the table does not know it.
	clitest.WriteFile(t, path, "model: my-finetune\n")
	got, _ = CompleteModels(New(ios))(nil, nil, "my-")
	if len(got) != 1 || got[0] != "my-finetune\tconfigured model" {
		t.Errorf("configured model completes to %q", got)
	}
	// A broken file does not break completion.
	clitest.WriteFile(t, path, "model: [\n")
	if got, _ = CompleteModels(New(ios))(nil, nil, "kimi-k2.6"); len(got) != 1 {
		t.Errorf("with a broken config, kimi-k2.6 completes to %q", got)
	}
}

func TestFormatting(t *testing.T) {
	ints := map[int]string{0: "0", 7: "7", 999: "999", 1000: "1,000", 262144: "262,144", -1234567: "-1,234,567"}
	for n, want := range ints {
		if got := FormatInt(n); got != want {
			t.Errorf("FormatInt(%d) = %q, want %q", n, got, want)
		}
	}
	tokens := map[int]string{0: "unknown", 8192: "8k", 131072: "128k", 262144: "256k", 1 << 20: "1M", 3 << 19: "1.5M", 100000: "100,000", 500: "500"}
	for n, want := range tokens {
		if got := FormatTokens(n); got != want {
			t.Errorf("FormatTokens(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestWriteTable(t *testing.T) {
	var b bytes.Buffer
	rows := [][]string{{"MODEL", "CONTEXT", "NOTE"}, {"kimi-k2.6", "256k", "—"}, {"x", "8k", ""}}
	if err := WriteTable(&b, rows, 1); err != nil {
		t.Fatal(err)
	}
	want := "MODEL      CONTEXT  NOTE\nkimi-k2.6     256k  —\nx               8k\n"
	if b.String() != want {
		t.Errorf("table:\n%q\nwant:\n%q", b.String(), want)
	}
}

// Cells are padded by the cells they take on a terminal, so CJK titles and emoji keep the
// columns after them aligned.
func TestWriteTableWideCells(t *testing.T) {
	var b bytes.Buffer
	rows := [][]string{{"TITLE", "ID"}, {"中文标题", "a"}, {"👍 ok", "b"}, {"plain", "c"}}
	if err := WriteTable(&b, rows); err != nil {
		t.Fatal(err)
	}
	want := "TITLE     ID\n中文标题  a\n👍 ok     b\nplain     c\n"
	if b.String() != want {
		t.Errorf("table:\n%s\nwant:\n%s", b.String(), want)
	}
}

func TestCurrency(t *testing.T) {
	tests := []struct {
		region, base, want string
	}{
		{"", "", "USD"},
		{"cn", "", "CNY"},
		{"global", "https://api.moonshot.cn/v1", "CNY"}, // the host wins over the region
		{"cn", "https://api.moonshot.ai/v1", "USD"},
		{"cn", "http://127.0.0.1:8080/v1", "CNY"}, // a gateway or the emulator: the region says
		{"global", "https://gateway.example/v1", "USD"},
	}
	for _, tt := range tests {
		clitest.Isolate(t)
		t.Setenv("MOONCHAT_REGION", tt.region)
		t.Setenv("MOONSHOT_API_BASE", tt.base)
		cfg, err := config.Load()
		if err != nil {
			t.Fatal(err)
		}
		if got := Currency(cfg); got != tt.want {
			t.Errorf("region %q, base %q: %s, want %s", tt.region, tt.base, got, tt.want)
		}
	}
}

func TestAPIFlags(t *testing.T) {
	clitest.Isolate(t)
	t.Setenv("MOONCHAT_REGION", "cn")
	t.Setenv("MOONCHAT_PROXY", "http://env-proxy:3128")
	parse := func(args ...string) (*config.Config, error) {
		cfg, err := config.Load()
		if err != nil {
			t.Fatal(err)
		}
		cmd := &cobra.Command{Use: "x", RunE: func(cmd *cobra.Command, _ []string) error { return ApplyAPIFlags(cmd, cfg) }}
		AddAPIFlags(cmd)
		cmd.SetArgs(args)
		cmd.SetOut(&bytes.Buffer{})
		cmd.SetErr(&bytes.Buffer{})
		return cfg, cmd.Execute()
	}
	cfg, err := parse("--api-base", "http://127.0.0.1:9/v1", "--proxy", "socks5h://127.0.0.1:1080")
	if err != nil {
		t.Fatal(err)
	}
	for key, want := range map[config.Name]string{"api_base": "http://127.0.0.1:9/v1", "proxy": "socks5h://127.0.0.1:1080"} {
		if v := cfg.Value(key); v.Raw != want || v.Origin != config.OriginFlag {
			t.Errorf("%s = %q from %s", key, v.Raw, v.Origin)
		}
	}
	// Flags not given leave the environment in charge, even though they have defaults.
	if v := cfg.Value("region"); v.Raw != "cn" || v.Origin != config.OriginEnv {
		t.Errorf("region = %q from %s", v.Raw, v.Origin)
	}
	// An empty --proxy overrides a configured proxy with none.
	if cfg, err = parse("--proxy", ""); err != nil || cfg.Value("proxy").Raw != "" || cfg.Value("proxy").Origin != config.OriginFlag {
		t.Errorf("--proxy \"\": %v, %+v", err, cfg.Value("proxy"))
	}
	for _, args := range [][]string{{"--region", "mars"}, {"--api-base", "ftp://x"}, {"--proxy", "gopher://x:70"}} {
		_, err := parse(args...)
		if ExitCode(err) != ExitUsage || !strings.Contains(err.Error(), args[0]+": ") {
			t.Errorf("%v: %v (exit %d)", args, err, ExitCode(err))
		}
	}
}

func TestReadPrompt(t *testing.T) {
	tests := []struct {
		name  string
		args  []string
		stdin string
		piped bool
		want  string
	}{
		{"arguments only", []string{"count", "this"}, "", true, "count this"},
		{"arguments then stdin", []string{"summarize"}, "line 1\nline 2\n", true, "summarize\n\nline 1\nline 2\n"},
		{"stdin only", nil, "just stdin", true, "just stdin"},
		{"blank stdin is ignored", []string{"q"}, " \n\n", true, "q"},
		{"a terminal is never read", []string{"q"}, "typed ahead", false, "q"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ios, in, _, _ := iostreams.Test()
			in.WriteString(tt.stdin)
			ios.SetStdinPipeOrFile(tt.piped)
			got, err := ReadPrompt(context.Background(), ios, tt.args)
			if err != nil || got != tt.want {
				t.Fatalf("ReadPrompt = %q, %v; want %q", got, err, tt.want)
			}
			if !tt.piped && in.String() != tt.stdin {
				t.Error("stdin was read")
			}
		})
	}
}

func TestTimeoutCause(t *testing.T) {
	clitest.Isolate(t)
	t.Setenv("MOONCHAT_TIMEOUT", "1ms")
	cfg, err := config.Load()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := WithTimeout(context.Background(), cfg)
	defer cancel()
	<-ctx.Done()
	err = TimeoutCause(ctx, ctx.Err())
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "timeout of 1ms") {
		t.Errorf("TimeoutCause = %v", err)
	}
	if ExitCode(err) != ExitTemporary {
		t.Errorf("exit %d, want %d", ExitCode(err), ExitTemporary)
	}
	other := errors.New("other")
	if TimeoutCause(ctx, other) != other {
		t.Error("TimeoutCause changed an unrelated error")
	}

	t.Setenv("MOONCHAT_TIMEOUT", "0")
	if cfg, err = config.Load(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel = WithTimeout(context.Background(), cfg)
	defer cancel()
	if _, ok := ctx.Deadline(); ok {
		t.Error("timeout 0 set a deadline")
	}
}

func TestArgsErrorsAreUsageErrors(t *testing.T) {
	parent := &cobra.Command{Use: "config", Args: cobra.ArbitraryArgs, RunE: UnknownSubcommand}
	for _, name := range []string{"list", "edit", "get"} {
		parent.AddCommand(&cobra.Command{Use: name, Args: NoArgs, RunE: func(*cobra.Command, []string) error { return nil }})
	}
	var help bytes.Buffer
	parent.SetOut(&help)
	parent.SetErr(&bytes.Buffer{})
	exec := func(args ...string) error {
		parent.SetArgs(args)
		return parent.Execute()
	}
	if err := exec(); err != nil || !strings.Contains(help.String(), "Available Commands") {
		t.Errorf("alone: %v, help %q", err, help.String())
	}
	err := exec("lsit")
	if ExitCode(err) != ExitUsage || !strings.Contains(err.Error(), `unknown command "lsit" for "config" (did you mean "list"?)`) {
		t.Errorf("typo: %v", err)
	}
	for typed, want := range map[string]string{"gte": "get", "ed": "edit", "lst": "list"} {
		if err := exec(typed); !strings.Contains(err.Error(), `(did you mean "`+want+`"?)`) {
			t.Errorf("%s: %v", typed, err)
		}
	}
	if err := exec("history"); ExitCode(err) != ExitUsage || strings.Contains(err.Error(), "did you mean") {
		t.Errorf("far from every command: %v", err)
	}
	if err := exec("list", "extra"); ExitCode(err) != ExitUsage || !strings.Contains(err.Error(), `config list takes no arguments, got "extra"`) {
		t.Errorf("extra argument: %v", err)
	}
}

// BenchmarkCompleteModels: a Tab on -m must feel instant; it reads the config file and the
// built-in table, nothing else.
func BenchmarkCompleteModels(b *testing.B) {
	dir := b.TempDir()
	b.Setenv("XDG_CONFIG_HOME", dir)
	b.Setenv("MOONCHAT_CONFIG", "")
	ios, _, _, _ := iostreams.Test()
	for b.Loop() {
		CompleteModels(New(ios))(nil, nil, "kimi")
	}
}
