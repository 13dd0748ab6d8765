// Command gendocs writes the shell completions and man pages that releases ship:
//
//	go run ./cmd/gendocs --dir .
//
// It is a program of its own, not a moonchat subcommand, so the markdown-to-roff converter it
// needs is not linked into (and initialised by) every moonchat run. Its output is deterministic
// (a fixed date, no generator tag), so regenerating an unchanged tree changes nothing and CI can
// fail when the committed files are stale.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/cpuguy83/go-md2man/v2/md2man"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/moonchat/moonchat/cmd"
	"github.com/moonchat/moonchat/cmd/cli"
	"github.com/moonchat/moonchat/pkg/config"
	"github.com/moonchat/moonchat/pkg/iostreams"
)

// manDate is the date printed in every man page. It is fixed so that output is reproducible;
// bump it when the pages change meaningfully.
const manDate = "November 2026"

// SectionAnnotation prefixes a command annotation that adds a man page section:
// Annotations["man:JSON OUTPUT"] = "markdown text".
const SectionAnnotation = "man:"

func main() {
	dir := flag.String("dir", ".", "directory that receives completions/ and man/")
	flag.Parse()
	if flag.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "gendocs: unexpected argument %q (usage: go run ./cmd/gendocs [--dir DIR])\n", flag.Arg(0))
		os.Exit(2)
	}
	if err := Generate(cmd.NewCmdRoot(cli.New(iostreams.System())), *dir); err != nil {
		fmt.Fprintf(os.Stderr, "gendocs: %v\n", err)
		os.Exit(1)
	}
}

// Generate writes completions/moonchat.{bash,zsh,fish,ps1} and man/*.1 under dir.
func Generate(root *cobra.Command, dir string) error {
	root.DisableAutoGenTag = true
	compDir := filepath.Join(dir, "completions")
	manDir := filepath.Join(dir, "man")
	for _, d := range []string{compDir, manDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	name := root.Name()
	gens := map[string]func(*bytes.Buffer) error{
		name + ".bash": func(b *bytes.Buffer) error { return root.GenBashCompletionV2(b, true) },
		name + ".zsh":  func(b *bytes.Buffer) error { return root.GenZshCompletion(b) },
		name + ".fish": func(b *bytes.Buffer) error { return root.GenFishCompletion(b, true) },
		name + ".ps1":  func(b *bytes.Buffer) error { return root.GenPowerShellCompletionWithDesc(b) },
	}
	for file, gen := range gens {
		var b bytes.Buffer
		if err := gen(&b); err != nil {
			return err
		}
		if err := writeIfChanged(filepath.Join(compDir, file), b.Bytes()); err != nil {
			return err
		}
	}
	want := map[string]bool{}
	var walk func(c *cobra.Command) error
	walk = func(c *cobra.Command) error {
		if !c.IsAvailableCommand() && c != root || c.Name() == "help" {
			return nil
		}
		page := strings.ReplaceAll(c.CommandPath(), " ", "-") + ".1"
		want[page] = true
		if err := writeIfChanged(filepath.Join(manDir, page), ManPage(c)); err != nil {
			return err
		}
		for _, sub := range c.Commands() {
			if err := walk(sub); err != nil {
				return err
			}
		}
		return nil
	}
	if err := walk(root); err != nil {
		return err
	}
	// Remove pages of commands that no longer exist.
	entries, err := os.ReadDir(manDir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".1") && !want[e.Name()] {
			if err := os.Remove(filepath.Join(manDir, e.Name())); err != nil {
				return err
			}
		}
	}
	return nil
}

func writeIfChanged(path string, data []byte) error {
	if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, data) {
		return nil
	}
	return os.WriteFile(path, data, 0o644)
}

// ManPage renders one command's man page (roff).
func ManPage(c *cobra.Command) []byte {
	c.InitDefaultHelpFlag()
	dashed := strings.ReplaceAll(c.CommandPath(), " ", "-")
	var b strings.Builder
	fmt.Fprintf(&b, "%% %q \"1\" %q \"moonchat\" \"User Commands\"\n", strings.ToUpper(dashed), manDate)
	fmt.Fprintf(&b, "# NAME\n%s \\- %s\n\n", dashed, c.Short)
	// Escaped, or markdown takes placeholders such as <key> for HTML tags and drops them.
	fmt.Fprintf(&b, "# SYNOPSIS\n**%s**\n\n", escape(c.UseLine()))
	desc := c.Long
	if desc == "" {
		desc = c.Short
	}
	fmt.Fprintf(&b, "# DESCRIPTION\n%s\n\n", escape(desc))
	if subs := available(c); len(subs) > 0 {
		b.WriteString("# COMMANDS\n")
		for _, s := range subs {
			fmt.Fprintf(&b, "**%s**\n: %s\n\n", s.Name(), s.Short)
		}
	}
	writeFlags(&b, "OPTIONS", c.NonInheritedFlags())
	writeFlags(&b, "OPTIONS INHERITED FROM PARENT COMMANDS", c.InheritedFlags())
	for _, key := range sortedSectionKeys(c.Annotations) {
		fmt.Fprintf(&b, "# %s\n%s\n\n", strings.TrimPrefix(key, SectionAnnotation), c.Annotations[key])
	}
	if c.Example != "" {
		fmt.Fprintf(&b, "# EXAMPLES\n```\n%s\n```\n\n", strings.TrimRight(c.Example, "\n"))
	}
	fmt.Fprintf(&b, "# EXIT STATUS\n```\n%s\n```\n\n", cli.ExitStatusHelp)
	b.WriteString("# ENVIRONMENT\n")
	for _, e := range Environment() {
		fmt.Fprintf(&b, "**%s**\n: %s\n\n", e[0], escape(e[1]))
	}
	b.WriteString("# FILES\n")
	for _, f := range Files() {
		fmt.Fprintf(&b, "*%s*\n: %s\n\n", f[0], escape(f[1]))
	}
	var see []string
	if c.HasParent() {
		see = append(see, fmt.Sprintf("**%s(1)**", strings.ReplaceAll(c.Parent().CommandPath(), " ", "-")))
	}
	for _, s := range available(c) {
		see = append(see, fmt.Sprintf("**%s-%s(1)**", dashed, s.Name()))
	}
	if len(see) > 0 {
		fmt.Fprintf(&b, "# SEE ALSO\n%s\n", strings.Join(see, ", "))
	}
	return md2man.Render([]byte(b.String()))
}

func available(c *cobra.Command) []*cobra.Command {
	var out []*cobra.Command
	for _, s := range c.Commands() {
		if s.IsAvailableCommand() && !s.IsAdditionalHelpTopicCommand() {
			out = append(out, s)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name() < out[j].Name() })
	return out
}

func sortedSectionKeys(m map[string]string) []string {
	var keys []string
	for k := range m {
		if strings.HasPrefix(k, SectionAnnotation) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	return keys
}

func writeFlags(b *strings.Builder, title string, flags *pflag.FlagSet) {
	if !flags.HasAvailableFlags() {
		return
	}
	fmt.Fprintf(b, "# %s\n", title)
	flags.VisitAll(func(fl *pflag.Flag) {
		if fl.Hidden || fl.Deprecated != "" {
			return
		}
		name := "**--" + fl.Name + "**"
		if fl.Shorthand != "" {
			name = "**-" + fl.Shorthand + "**, " + name
		}
		if t := fl.Value.Type(); t != "bool" {
			name += " *" + t + "*"
		}
		usage := fl.Usage
		if fl.DefValue != "" && fl.DefValue != "false" && fl.DefValue != "[]" && fl.DefValue != "0" {
			usage += fmt.Sprintf(" (default %s)", fl.DefValue)
		}
		fmt.Fprintf(b, "%s\n: %s\n\n", name, escape(usage))
	})
}

// escape keeps markdown from eating characters that help text uses literally.
func escape(s string) string {
	r := strings.NewReplacer("*", "\\*", "_", "\\_", "<", "\\<", ">", "\\>")
	var out []string
	for _, line := range strings.Split(s, "\n") {
		if strings.HasPrefix(line, "  ") || strings.HasPrefix(line, "\t") {
			out = append(out, line) // code-like lines are kept as they are
			continue
		}
		out = append(out, r.Replace(line))
	}
	return strings.Join(out, "\n")
}

// Environment lists every variable moonchat reads, for the ENVIRONMENT section.
func Environment() [][2]string {
	env := [][2]string{
		{"MOONSHOT_API_KEY", "API key (platform.moonshot.ai, or platform.moonshot.cn with --region cn); used when api_key is not set otherwise."},
		{"MOONSHOT_API_BASE", "API base URL, e.g. https://api.moonshot.cn/v1; overrides the region."},
		{"MOONCHAT_CONFIG", "path of the config file, instead of $XDG_CONFIG_HOME/moonchat/config.yaml."},
	}
	for _, k := range config.Keys() {
		for _, e := range k.Env {
			if e == "MOONSHOT_API_KEY" || e == "MOONSHOT_API_BASE" {
				continue
			}
			env = append(env, [2]string{e, "sets the config key " + k.Name + ": " + k.Description})
		}
	}
	env = append(env,
		[2]string{"MOONCHAT_MASTER_KEY", "master key required by `moonchat serve` clients (LITELLM_MASTER_KEY is honoured too)."},
		[2]string{"HTTPS_PROXY, HTTP_PROXY, ALL_PROXY, NO_PROXY", "proxies for API requests (http, https, socks5, socks5h, socks); NO_PROXY accepts host names, IPs, CIDR ranges and IPv6."},
		[2]string{"NO_COLOR", "when set, no colour is written."},
		[2]string{"CLICOLOR_FORCE", "when set (and not 0), answers are rendered even when standard output is not a terminal."},
		[2]string{"TERM", "TERM=dumb disables colour and live redraws."},
		[2]string{"GLAMOUR_STYLE", "markdown style: dark, light, notty, or a path to a glamour JSON style."},
		[2]string{"COLORFGBG", "read once to choose the dark or light style; the terminal is never queried."},
		[2]string{"COLUMNS", "width when it cannot be read from the terminal."},
		[2]string{"VISUAL, EDITOR", "editor for `moonchat config edit` and /edit in the interactive session."},
		[2]string{"XDG_CONFIG_HOME, XDG_DATA_HOME, XDG_CACHE_HOME", "base directories of the files below."},
	)
	return env
}

// Files lists the files moonchat reads and writes, for the FILES section.
func Files() [][2]string {
	return [][2]string{
		{"$XDG_CONFIG_HOME/moonchat/config.yaml", "settings (mode 0600; see moonchat-config(1))."},
		{"$XDG_DATA_HOME/moonchat/history.db", "saved conversations (SQLite)."},
		{"$XDG_DATA_HOME/moonchat/input_history", "lines typed in the interactive session."},
		{"$XDG_CACHE_HOME/moonchat/files.json", "uploaded documents: sha256 to Moonshot file id, so a document is uploaded once."},
		{"$XDG_CACHE_HOME/moonchat/mcp/NAME.log", "standard error of the local MCP server NAME (mode 0600; past 1 MB it becomes NAME.log.1 and a new one begins)."},
	}
}
