package configcmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"

	"github.com/moonchat/moonchat/cmd/cli"
	"github.com/moonchat/moonchat/pkg/config"
	"github.com/moonchat/moonchat/pkg/moonshot"
)

// verifyTimeout bounds the check of a new key: one small request, retries included.
const verifyTimeout = 30 * time.Second

// maxAttempts is how often init asks again after an invalid answer before giving up.
const maxAttempts = 3

func initRun(ctx context.Context, opts *Options) error {
	ios, cfg := opts.IO, opts.Config
	if !ios.IsStdinTTY() {
		return cli.Usagef("config init asks questions and needs a terminal; in scripts, set MOONSHOT_API_KEY or pipe the key into `moonchat config set api_key`")
	}
	path := cfg.FilePath()
	if path == "" {
		_, err := config.Path()
		return err
	}
	fmt.Fprintf(ios.ErrOut, "Setting up %s\n", path)

	// A key the platform refuses is asked again, with the platform: a key of the other
	// platform is the usual cause.
	var key, region string
	for attempt := 1; ; attempt++ {
		var err error
		if key, err = askKey(ctx, opts); err != nil {
			return err
		}
		if region, err = ask(ctx, opts, "region", "Platform: global (platform.moonshot.ai, USD) or cn (platform.moonshot.cn, CNY)"); err != nil {
			return err
		}
		if opts.NoVerify {
			break
		}
		err = verifyKey(ctx, opts, key, region)
		if err == nil {
			break
		}
		if !moonshot.IsAuth(err) {
			fmt.Fprintln(ios.ErrOut, "Nothing was written.")
			return err
		}
		explainRefusal(opts, err)
		if attempt == maxAttempts {
			fmt.Fprintln(ios.ErrOut, "Nothing was written.")
			return &cli.ExitError{Code: cli.ExitAuth} // explained above
		}
		fmt.Fprintf(ios.ErrOut, "Try again (%d of %d).\n", attempt+1, maxAttempts)
	}
	model, err := ask(ctx, opts, "model", "Default model")
	if err != nil {
		return err
	}

	if _, err := config.CreateFile(path); err != nil {
		return err
	}
	for _, kv := range []struct{ key, value string }{{"api_key", key}, {"region", region}, {"model", model}} {
		if kv.value == "" {
			continue // Enter on a key that was not in the file: keep it out
		}
		if err := cfg.Set(kv.key, kv.value); err != nil {
			return err
		}
	}
	fmt.Fprintf(ios.ErrOut, "Wrote %s (readable only by you)\n", path)
	for _, k := range []string{"api_key", "region", "model"} {
		noteOverride(opts, k)
	}
	return nil
}

// askKey reads the API key without echo. Enter keeps the key already in the file.
func askKey(ctx context.Context, opts *Options) (string, error) {
	current, has := opts.Config.InFile("api_key")
	prompt := "Moonshot API key (input hidden): "
	if has {
		prompt = fmt.Sprintf("Moonshot API key (input hidden; Enter keeps %s): ", config.Mask(current))
	}
	k, _ := config.Lookup("api_key")
	for attempt := 1; ; attempt++ {
		key, err := opts.IO.ReadSecret(ctx, prompt)
		if err != nil {
			return "", inputError(err)
		}
		key = strings.TrimSpace(key)
		if key == "" {
			if has {
				return current, nil
			}
			err = errors.New("no key entered")
		} else if err = k.Check(key); err == nil {
			return key, nil
		} else {
			err = fmt.Errorf("api_key: %w", err)
		}
		if attempt == maxAttempts {
			return "", &cli.UsageError{Err: fmt.Errorf("%w; nothing was written (keys are made at platform.moonshot.ai, or platform.moonshot.cn for the China platform)", err)}
		}
		fmt.Fprintf(opts.IO.ErrOut, "%v; try again\n", err)
	}
}

// ask reads a visible answer for key, showing the current choice (the file's value, else the
// default) in brackets; Enter keeps it. It returns "" when Enter kept a value that is not in
// the file, so that nothing is written for it and the default can still change later.
func ask(ctx context.Context, opts *Options, name, question string) (string, error) {
	k, _ := config.Lookup(name)
	current, inFile := opts.Config.InFile(name)
	if !inFile {
		current = k.Default
	}
	for attempt := 1; ; attempt++ {
		answer, err := opts.IO.ReadLine(ctx, fmt.Sprintf("%s [%s]: ", question, current))
		if err != nil {
			return "", inputError(err)
		}
		answer = strings.TrimSpace(answer)
		if answer == "" || answer == current {
			if inFile {
				return current, nil
			}
			return "", nil
		}
		err = k.Check(answer)
		if err == nil {
			return answer, nil
		}
		if attempt == maxAttempts {
			return "", &config.ValueError{Key: name, Msg: err.Error()}
		}
		fmt.Fprintf(opts.IO.ErrOut, "%s: %v; try again\n", name, err)
	}
}

// explainRefusal says why a key was refused, in the wizard's terms: the answer to change is
// the platform question, unless an API base from the environment or the file decides where
// requests go whatever the answer.
func explainRefusal(opts *Options, err error) {
	msg, _ := cli.Describe(err, "")
	w := opts.IO.ErrOut
	fmt.Fprintf(w, "The key was refused: %s\n", opts.IO.ErrPrintable(msg))
	if base := opts.Config.Value(config.KeyAPIBase); base.IsSet() {
		from := base.Source
		if base.Origin == config.OriginEnv {
			from = "$" + from
		}
		fmt.Fprintf(w, "Requests go to %s (api_base, from %s), whatever the platform answer; check that the key is for that server.\n", base.String(), from)
		return
	}
	fmt.Fprintln(w, "Keys from platform.moonshot.ai work on global and keys from platform.moonshot.cn on cn: choose cn at the platform question if your key is from platform.moonshot.cn, and check that it was pasted whole.")
}

// inputError explains an input that ended (Ctrl-D) instead of a bare EOF.
func inputError(err error) error {
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return cli.Usagef("input ended before the setup was complete; nothing was written")
	}
	return err
}

// verifyKey lists the models with the new key on the chosen platform. A key that the platform
// refuses stops the setup (with the usual hint about .ai and .cn keys); a network problem only
// gives a warning, since the key may well be right.
func verifyKey(ctx context.Context, opts *Options, key, region string) error {
	vcfg, err := config.LoadFile(opts.Config.FilePath())
	if err != nil {
		return err
	}
	if err := vcfg.SetFlag("api_key", key); err != nil {
		return err
	}
	if region != "" {
		if err := vcfg.SetFlag("region", region); err != nil {
			return err
		}
	}
	client, err := opts.Factory.Client(vcfg, cli.ClientOptions{})
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, verifyTimeout)
	defer cancel()
	host := client.BaseURL()
	if u, err := url.Parse(host); err == nil && u.Host != "" {
		host = u.Host
	}
	models, err := client.Models(ctx)
	switch {
	case err == nil:
		fmt.Fprintf(opts.IO.ErrOut, "The key works on %s: %d models available\n", host, len(models))
		return nil
	case moonshot.IsAuth(err), errors.Is(err, context.Canceled):
		return err
	}
	msg, _ := cli.Describe(err, region)
	fmt.Fprintf(opts.IO.ErrOut, "moonchat: could not check the key on %s (%s); saving it anyway\n", host, msg)
	return nil
}
