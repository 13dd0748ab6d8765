package cli

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/moonchat/moonchat/internal/clitest"
	"github.com/moonchat/moonchat/pkg/config"
	"github.com/moonchat/moonchat/pkg/iostreams"
)

func TestSettings(t *testing.T) {
	clitest.Isolate(t)
	t.Setenv("MOONCHAT_MODEL", "moonshot-v1-8k")
	parse := func(f *Factory, args ...string) (*config.Config, error) {
		var cfg *config.Config
		cmd := &cobra.Command{Use: "x", RunE: func(cmd *cobra.Command, _ []string) (err error) {
			cfg, err = Settings(cmd, f, FlagKey{Flag: "model", Key: "model"})
			return err
		}}
		AddAPIFlags(cmd)
		cmd.Flags().String("model", "", "")
		cmd.SetArgs(args)
		cmd.SetOut(&bytes.Buffer{})
		cmd.SetErr(&bytes.Buffer{})
		return cfg, cmd.Execute()
	}
	ios, _, _, _ := iostreams.Test()

	cfg, err := parse(New(ios), "--model", "kimi-k2.6", "--region", "cn")
	if err != nil {
		t.Fatal(err)
	}
	for key, want := range map[config.Name]string{"model": "kimi-k2.6", "region": "cn"} {
		if v := cfg.Value(key); v.Raw != want || v.Origin != config.OriginFlag {
			t.Errorf("%s = %q from %s", key, v.Raw, v.Origin)
		}
	}
	// A flag not given leaves the environment in charge.
	if cfg, err = parse(New(ios)); err != nil || cfg.Value("model").Raw != "moonshot-v1-8k" || cfg.Value("model").Origin != config.OriginEnv {
		t.Errorf("no --model: %v, %+v", err, cfg.Value("model"))
	}
	for _, args := range [][]string{{"--model", "no such model!"}, {"--region", "mars"}} {
		_, err := parse(New(ios), args...)
		if ExitCode(err) != ExitUsage || !strings.Contains(err.Error(), args[0]+": ") {
			t.Errorf("%v: %v (exit %d)", args, err, ExitCode(err))
		}
	}
	// A settings file that cannot be read is passed on as it is, for the command to explain.
	broken := errors.New("unreadable")
	f := New(ios)
	f.Config = func() (*config.Config, error) { return nil, broken }
	if _, err := parse(f, "--region", "cn"); !errors.Is(err, broken) {
		t.Errorf("broken config: %v", err)
	}
}
