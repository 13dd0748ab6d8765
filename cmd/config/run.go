package configcmd

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/moonchat/moonchat/cmd/cli"
	"github.com/moonchat/moonchat/pkg/config"
)

func configRun(ctx context.Context, opts *Options) error {
	switch opts.Action {
	case "path":
		path, err := config.Path()
		if err != nil {
			return err
		}
		_, err = fmt.Fprintln(opts.IO.Out, path)
		return err
	case "list":
		return listRun(opts)
	case "get":
		return getRun(opts)
	case "set":
		return setRun(ctx, opts)
	case "unset":
		return unsetRun(opts)
	case "edit":
		return editRun(opts)
	case "init":
		return initRun(ctx, opts)
	}
	return fmt.Errorf("config: unknown action %q", opts.Action)
}

// listItem is one setting as `config list --json` prints it.
type listItem struct {
	Key     string `json:"key"`
	Value   string `json:"value"`
	Origin  string `json:"origin"`
	Source  string `json:"source"`
	Type    string `json:"type"`
	Default string `json:"default"`
}

func listRun(opts *Options) error {
	values := opts.Config.List(opts.Reveal)
	out := opts.IO.Out
	switch {
	case opts.JSON:
		items := make([]listItem, 0, len(values))
		for _, v := range values {
			items = append(items, listItem{Key: v.Key.Name, Value: v.Raw, Origin: string(v.Origin), Source: v.Source,
				Type: v.Key.Type, Default: v.Key.Default})
		}
		return cli.WriteJSON(out, items)
	case opts.Origin && opts.IO.IsStdoutTTY():
		rows := [][]string{{"KEY", "VALUE", "ORIGIN"}}
		for _, v := range values {
			origin := string(v.Origin)
			if v.Source != "" {
				origin += " (" + v.Source + ")"
			}
			rows = append(rows, []string{v.Key.Name, v.Raw, origin})
		}
		return cli.WriteTable(out, rows)
	}
	var b strings.Builder
	for _, v := range values {
		if opts.Origin {
			fmt.Fprintf(&b, "%s\t%s\t%s\t%s\n", v.Key.Name, v.Raw, v.Origin, v.Source)
		} else {
			fmt.Fprintf(&b, "%s=%s\n", v.Key.Name, v.Raw)
		}
	}
	_, err := io.WriteString(out, b.String())
	return err
}

func getRun(opts *Options) error {
	v := opts.Config.Value(config.Name(opts.Key))
	shown := v.String()
	if opts.Reveal {
		shown = v.Raw
	}
	if shown == "" {
		if opts.IO.IsStdoutTTY() {
			fmt.Fprintf(opts.IO.ErrOut, "%s is not set\n", opts.Key)
		}
		return nil
	}
	_, err := fmt.Fprintln(opts.IO.Out, shown)
	return err
}

func setRun(ctx context.Context, opts *Options) error {
	k, _ := config.Lookup(opts.Key)
	value := opts.Value
	if !opts.HasValue {
		var err error
		if value, err = readValue(ctx, opts, k); err != nil {
			return err
		}
	}
	if k.Name == "model" && value != "" {
		if err := checkModel(ctx, opts, value); err != nil {
			return err
		}
	}
	if err := opts.Config.Set(k.Name, value); err != nil {
		return err
	}
	if opts.IO.IsStderrTTY() {
		stored, _ := opts.Config.InFile(k.Name)
		fmt.Fprintf(opts.IO.ErrOut, "Set %s to %s in %s\n", k.Name, shownValue(k, stored), opts.Config.FilePath())
	}
	noteOverride(opts, k.Name)
	return nil
}

// checkModel refuses a model the API would refuse, as /model in the session does: the
// table first, then GET /models with the configured key.
func checkModel(ctx context.Context, opts *Options, model string) error {
	client, err := opts.Factory.Client(opts.Config, cli.ClientOptions{})
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, verifyTimeout)
	defer cancel()
	notice, err := cli.CheckModel(ctx, client, model)
	if notice != "" {
		fmt.Fprintf(opts.IO.ErrOut, "moonchat: note: %s\n", notice)
	}
	return err
}

func unsetRun(opts *Options) error {
	_, had := opts.Config.InFile(opts.Key)
	if err := opts.Config.Unset(opts.Key); err != nil {
		return err
	}
	if opts.IO.IsStderrTTY() {
		if had {
			fmt.Fprintf(opts.IO.ErrOut, "Removed %s from %s\n", opts.Key, opts.Config.FilePath())
		} else {
			fmt.Fprintf(opts.IO.ErrOut, "%s was not set in %s\n", opts.Key, opts.Config.FilePath())
		}
	}
	noteOverride(opts, opts.Key)
	return nil
}

// shownValue is a value as messages may show it: secrets masked, passwords in URLs hidden.
func shownValue(k config.Key, v string) string {
	return config.Value{Key: k, Raw: v}.String()
}

// noteOverride warns when the file's value for key is not the one commands will use.
func noteOverride(opts *Options, key string) {
	if v := opts.Config.Value(config.Name(key)); v.Origin == config.OriginEnv {
		fmt.Fprintf(opts.IO.ErrOut, "moonchat: note: $%s is set and takes precedence over the config file for %s\n", v.Source, key)
	}
}

// maxValue bounds a value read from a pipe; the longest real value (a URL, a key) is far below.
const maxValue = 64 << 10

// readValue reads the value of `config set KEY` when none was given: typed on the terminal
// (hidden for secrets), or piped in.
func readValue(ctx context.Context, opts *Options, k config.Key) (string, error) {
	ios := opts.IO
	switch {
	case ios.IsStdinTTY():
		prompt := fmt.Sprintf("Value of %s: ", k.Name)
		if k.Secret {
			return ios.ReadSecret(ctx, fmt.Sprintf("Value of %s (input hidden): ", k.Name))
		}
		return ios.ReadLine(ctx, prompt)
	case ios.StdinIsPipeOrFile():
		data, err := io.ReadAll(io.LimitReader(ios.In, maxValue+1))
		if err != nil {
			return "", fmt.Errorf("reading standard input: %w", err)
		}
		if len(data) > maxValue {
			return "", cli.Usagef("the value on standard input is longer than %d KB", maxValue>>10)
		}
		value := strings.TrimRight(string(data), "\r\n")
		if strings.ContainsAny(value, "\r\n") {
			return "", cli.Usagef("standard input has several lines; the value of %s is one line", k.Name)
		}
		return value, nil
	}
	return "", cli.Usagef("config set %s needs a value: as an argument, typed on a terminal, or piped in", k.Name)
}
