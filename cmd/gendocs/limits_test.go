package main_test

import (
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	chatcmd "github.com/moonchat/moonchat/cmd/chat"
	gendocs "github.com/moonchat/moonchat/cmd/gendocs"
	servecmd "github.com/moonchat/moonchat/cmd/serve"
	"github.com/moonchat/moonchat/pkg/config"
	"github.com/moonchat/moonchat/pkg/converse"
	"github.com/moonchat/moonchat/pkg/iostreams"
	"github.com/moonchat/moonchat/pkg/mcphost"
	"github.com/moonchat/moonchat/pkg/moonshot"
	"github.com/moonchat/moonchat/pkg/proxy"
)

// A figure in the docs: where it is stated and in which words. {} in a context stands for the
// figure; the rest is matched literally, any run of spaces matching any run of white space
// (man pages and help texts wrap lines anywhere).
type statement struct {
	place   string   // "README.md", "help: moonchat chat", "man/moonchat-chat.1", "FILES section"
	context []string // each must occur at least once in place, and every occurrence state the figure
}

// figureSlot is what a figure looks like where {} stands: a number and, maybe, a unit.
const figureSlot = `([0-9][0-9.,]*(?:\s?(?:minutes?|min|seconds?|ms|s|[KMG]B|bytes)\b)?)`

// TestDocsStateTheLimitsOfTheCode holds every figure for a limit of the code that the README,
// the help texts or the man pages write by hand to the constant it describes: a changed limit
// whose docs were not changed (or docs that were rewritten with another figure) fails here,
// naming the file, the figure it states and the constant's value.
func TestDocsStateTheLimitsOfTheCode(t *testing.T) {
	root := newRoot(t)
	texts := map[string]string{}
	text := func(place string) string {
		if s, ok := texts[place]; ok {
			return s
		}
		var s string
		switch {
		case strings.HasPrefix(place, "help: "):
			s = helpText(t, root, strings.TrimPrefix(place, "help: "))
		case place == "FILES section":
			for _, f := range gendocs.Files() {
				s += f[0] + " " + f[1] + "\n"
			}
		case place == "ENVIRONMENT section":
			for _, e := range gendocs.Environment() {
				s += e[0] + " " + e[1] + "\n"
			}
		default:
			data, err := os.ReadFile("../../" + place)
			if err != nil {
				t.Fatal(err)
			}
			s = string(data)
		}
		texts[place] = s
		return s
	}
	flagDefault := func(command, flag string) string {
		c, _, err := root.Find(strings.Fields(command))
		if err != nil {
			t.Fatal(err)
		}
		f := c.Flags().Lookup(flag)
		if f == nil {
			t.Fatalf("moonchat %s has no --%s", command, flag)
		}
		return f.DefValue
	}
	flagDuration := func(command, flag string) time.Duration {
		d, err := time.ParseDuration(flagDefault(command, flag))
		if err != nil {
			t.Fatalf("moonchat %s --%s: %v", command, flag, err)
		}
		return d
	}
	configDefault := func(key string) string {
		for _, k := range config.Keys() {
			if k.Name == key {
				return k.Default
			}
		}
		t.Fatalf("no config key %s", key)
		return ""
	}

	retryWait := []statement{
		{"README.md", []string{
			"none when the server asks to wait over {} |",
			"jitter (at most {}).",
			"A server that asks for more than {} is not asked again early",
		}},
		{"help: moonchat chat", []string{"none when the server asks to wait over {}"}},
		{"man/moonchat-chat.1", []string{"none when the server asks to wait over {}"}},
		// The config key's description, in `moonchat config` and every ENVIRONMENT section.
		{"ENVIRONMENT section", []string{"none when the server asks to wait over {}"}},
		{"man/moonchat-config.1", []string{"none when the server asks to wait over {}"}},
	}
	for _, tc := range []struct {
		figure   string // the figure as the docs write it
		constant string // where it comes from, with its value
		places   []statement
	}{
		{
			figure:   size(mcphost.DefaultMaxLogBytes),
			constant: fmt.Sprintf("mcphost.DefaultMaxLogBytes = %d", mcphost.DefaultMaxLogBytes),
			places: []statement{
				{"README.md", []string{"(kept under {}: past that", "NAME (under {}; the lines before"}},
				{"help: moonchat tools list", []string{"(past {} the log becomes"}},
				{"man/moonchat-tools-list.1", []string{"(past {} the log becomes"}},
				{"FILES section", []string{"past {} it becomes NAME.log.1"}},
				{"man/moonchat.1", []string{"past {} it becomes NAME.log.1"}},
			},
		},
		{
			figure:   size(converse.MaxToolResultBytes),
			constant: fmt.Sprintf("converse.MaxToolResultBytes = %d", converse.MaxToolResultBytes),
			places:   []statement{{"README.md", []string{"a result over {} is cut"}}},
		},
		{
			figure:   seconds(moonshot.DefaultMaxRetryDelay),
			constant: "moonshot.DefaultMaxRetryDelay = " + moonshot.DefaultMaxRetryDelay.String(),
			places:   retryWait,
		},
		{
			figure:   minutes(proxy.MaxServerCooldown),
			constant: "proxy.MaxServerCooldown = " + proxy.MaxServerCooldown.String(),
			places: []statement{
				{"README.md", []string{"asks for longer, up to {})"}},
				{"help: moonchat serve", []string{"the longer wait the upstream asked for, up to {};"}},
				{"man/moonchat-serve.1", []string{"the longer wait the upstream asked for, up to {};"}},
				{"pkg/proxy/README.md", []string{"when that is longer, up to {} (a longer wait"}},
			},
		},
		{
			figure:   seconds(proxy.DefaultMaxRetryDelay),
			constant: "proxy.DefaultMaxRetryDelay = " + proxy.DefaultMaxRetryDelay.String(),
			places:   []statement{{"pkg/proxy/README.md", []string{"asks for more than {} is not tried again in that request"}}},
		},
		{
			figure:   size(proxy.DefaultMaxBodyBytes),
			constant: fmt.Sprintf("proxy.DefaultMaxBodyBytes = %d", proxy.DefaultMaxBodyBytes),
			places:   []statement{{"pkg/proxy/README.md", []string{"Bodies over {} (`Options.MaxBodyBytes`) get 413"}}},
		},
		{
			figure:   minShort(proxy.DefaultRequestTimeout),
			constant: "proxy.DefaultRequestTimeout = " + proxy.DefaultRequestTimeout.String(),
			places:   []statement{{"pkg/proxy/README.md", []string{"(default `request_timeout`, {});"}}},
		},
		{
			figure:   fmt.Sprint(proxy.DefaultAllowedFails),
			constant: fmt.Sprintf("proxy.DefaultAllowedFails = %d", proxy.DefaultAllowedFails),
			places: []statement{
				{"help: moonchat serve", []string{"allowed_fails: {} # failures a minute before a cooldown (LiteLLM's default)"}},
				{"man/moonchat-serve.1", []string{"allowed_fails: {} # failures a minute before a cooldown (LiteLLM's default)"}},
				{"pkg/proxy/README.md", []string{"(LiteLLM's default, {}, when absent)"}},
			},
		},
		{
			figure:   fmt.Sprint(int64(proxy.DefaultCooldownTime / time.Second)),
			constant: "proxy.DefaultCooldownTime = " + proxy.DefaultCooldownTime.String(),
			places: []statement{
				{"help: moonchat serve", []string{"cooldown_time: {} # seconds out of rotation (LiteLLM's default)"}},
				{"man/moonchat-serve.1", []string{"cooldown_time: {} # seconds out of rotation (LiteLLM's default)"}},
				{"pkg/proxy/README.md", []string{"`cooldown_time` is in seconds (default {})."}},
			},
		},
		{
			figure:   fmt.Sprint(proxy.DefaultNumRetries),
			constant: fmt.Sprintf("proxy.DefaultNumRetries = %d", proxy.DefaultNumRetries),
			places:   []statement{{"pkg/proxy/README.md", []string{"`num_retries` (default {}) counts every"}}},
		},
		{
			figure:   fmt.Sprint(iostreams.MaxWidth),
			constant: fmt.Sprintf("iostreams.MaxWidth = %d", iostreams.MaxWidth),
			places: []statement{
				{"README.md", []string{"0 = terminal width, at most {} |"}},
				{"help: moonchat chat", []string{"(0: the terminal's width, at most {})"}},
				{"man/moonchat-chat.1", []string{"(0: the terminal's width, at most {})"}},
				{"ENVIRONMENT section", []string{"0 uses the terminal width (at most {})"}},
			},
		},
		{
			figure:   fmt.Sprint(chatcmd.MaxContinues),
			constant: fmt.Sprintf("chat.MaxContinues = %d", chatcmd.MaxContinues),
			places: []statement{
				{"help: moonchat chat", []string{"up to N times (at most {})"}},
				{"man/moonchat-chat.1", []string{"times (at most {}), seamlessly"}},
			},
		},
		{
			figure:   fmt.Sprint(converse.DefaultMaxSteps),
			constant: fmt.Sprintf("converse.DefaultMaxSteps = %d", converse.DefaultMaxSteps),
			places:   []statement{{"README.md", []string{"(at most `--max-steps` rounds, {} by default;"}}},
		},
		{
			figure:   size(config.MaxFileBytes),
			constant: fmt.Sprintf("config.MaxFileBytes = %d", config.MaxFileBytes),
			places:   []statement{{"README.md", []string{"file of at most {} is read as a config file"}}},
		},
		{
			figure:   size(moonshot.MaxResponseBytes),
			constant: fmt.Sprintf("moonshot.MaxResponseBytes = %d", moonshot.MaxResponseBytes),
			places:   []statement{{"README.md", []string{"more than moonchat reads (a {} answer,"}}},
		},
		{
			figure:   size(moonshot.MaxEventBytes),
			constant: fmt.Sprintf("moonshot.MaxEventBytes = %d", moonshot.MaxEventBytes),
			places:   []statement{{"README.md", []string{"answer, an {} stream event,"}}},
		},
		{
			figure:   size(moonshot.MaxAnswerBytes),
			constant: fmt.Sprintf("moonshot.MaxAnswerBytes = %d", moonshot.MaxAnswerBytes),
			places:   []statement{{"README.md", []string{"stream event, {} of answer text,"}}},
		},
		{
			figure:   size(moonshot.MaxErrorBytes),
			constant: fmt.Sprintf("moonshot.MaxErrorBytes = %d", moonshot.MaxErrorBytes),
			places:   []statement{{"README.md", []string{"of answer text, {} error bodies;"}}},
		},
		{
			figure:   minutes(chatcmd.ToolTimeout),
			constant: "chat.ToolTimeout = " + chatcmd.ToolTimeout.String(),
			places:   []statement{{"README.md", []string{"a call gets {}, and a result over"}}},
		},
		{
			figure:   seconds(servecmd.ReadHeaderTimeout),
			constant: "serve.ReadHeaderTimeout = " + servecmd.ReadHeaderTimeout.String(),
			places:   []statement{{"pkg/proxy/README.md", []string{"`ReadHeaderTimeout` {},"}}},
		},
		{
			figure:   minShort(servecmd.ReadTimeout),
			constant: "serve.ReadTimeout = " + servecmd.ReadTimeout.String(),
			places:   []statement{{"pkg/proxy/README.md", []string{"`ReadTimeout` {} (the request only;"}}},
		},
		{
			figure:   minShort(servecmd.IdleTimeout),
			constant: "serve.IdleTimeout = " + servecmd.IdleTimeout.String(),
			places:   []statement{{"pkg/proxy/README.md", []string{"`IdleTimeout` {}."}}},
		},
		{
			figure:   millis(proxy.RedisTimeout),
			constant: "proxy.RedisTimeout = " + proxy.RedisTimeout.String(),
			places:   []statement{{"pkg/proxy/README.md", []string{"operation is bounded by {}; when one fails"}}},
		},
		{
			figure:   seconds(proxy.RedisWarnInterval),
			constant: "proxy.RedisWarnInterval = " + proxy.RedisWarnInterval.String(),
			places:   []statement{{"pkg/proxy/README.md", []string{"a WARN is logged at most every {}, Redis"}}},
		},
		{
			figure:   fmt.Sprint(moonshot.MaxN),
			constant: fmt.Sprintf("moonshot.MaxN = %d", moonshot.MaxN),
			places: []statement{
				{"help: moonchat chat", []string{"number of answers (at most {}; one on"}},
				{"man/moonchat-chat.1", []string{"number of answers (at most {}; one on"}},
				{"docs/moonshot-api.md", []string{"| at most {} |", "n at most {} where §1 allows"}},
			},
		},
		{
			figure:   fmt.Sprint(moonshot.MaxStops),
			constant: fmt.Sprintf("moonshot.MaxStops = %d", moonshot.MaxStops),
			places: []statement{
				{"help: moonchat chat", []string{"stop sequence (repeatable, at most {}, each"}},
				{"man/moonchat-chat.1", []string{"stop sequence (repeatable, at most {}, each"}},
				{"docs/moonshot-api.md", []string{"at most {} stop strings of"}},
			},
		},
		{
			figure:   size(moonshot.MaxStopBytes),
			constant: fmt.Sprintf("moonshot.MaxStopBytes = %d", moonshot.MaxStopBytes),
			places: []statement{
				{"help: moonchat chat", []string{"each ≤ {})"}},
				{"man/moonchat-chat.1", []string{"each ≤ {})"}},
				{"docs/moonshot-api.md", []string{"stop strings of at most {} each,"}},
			},
		},
		{
			figure:   fmt.Sprint(moonshot.MaxTools),
			constant: fmt.Sprintf("moonshot.MaxTools = %d", moonshot.MaxTools),
			places:   []statement{{"docs/moonshot-api.md", []string{"at most {} tools, function names"}}},
		},
		{
			figure:   fmt.Sprint(moonshot.MinToolNameLen),
			constant: fmt.Sprintf("moonshot.MinToolNameLen = %d", moonshot.MinToolNameLen),
			places:   []statement{{"docs/moonshot-api.md", []string{"function names of {} to"}}},
		},
		{
			figure:   fmt.Sprint(moonshot.MaxToolNameLen),
			constant: fmt.Sprintf("moonshot.MaxToolNameLen = %d", moonshot.MaxToolNameLen),
			places:   []statement{{"docs/moonshot-api.md", []string{"to {} letters, digits"}}},
		},
		{
			figure:   minutes(flagDuration("chat", "timeout")),
			constant: "moonchat chat --timeout's default = " + flagDefault("chat", "timeout"),
			places:   []statement{{"README.md", []string{"is limited by `--timeout` ({});"}}},
		},
		{
			figure:   configDefault("max_retries"),
			constant: "config key max_retries's default = " + configDefault("max_retries"),
			places:   []statement{{"README.md", []string{"is retried `max_retries` times ({} by default)"}}},
		},
		{
			figure:   flagDefault("serve", "grace"),
			constant: "moonchat serve --grace's default = " + flagDefault("serve", "grace"),
			places:   []statement{{"README.md", []string{"for up to `--grace` ({})."}}},
		},
	} {
		for _, st := range tc.places {
			doc := text(st.place)
			for _, context := range st.context {
				re := contextPattern(context)
				found := re.FindAllStringSubmatch(doc, -1)
				if len(found) == 0 {
					t.Errorf("%s no longer says %q (%s): update this test with the new wording", st.place, context, tc.constant)
					continue
				}
				for _, m := range found {
					if stated := strings.Join(strings.Fields(m[1]), " "); stated != tc.figure {
						t.Errorf("%s states %q where it should state %q: %s\n\t%s",
							st.place, stated, tc.figure, tc.constant, strings.Join(strings.Fields(m[0]), " "))
					}
				}
			}
		}
	}
}

// contextPattern turns a context with {} into a pattern capturing the figure.
func contextPattern(context string) *regexp.Regexp {
	before, after, ok := strings.Cut(context, "{}")
	if !ok {
		panic("context without {}: " + context)
	}
	literal := func(s string) string {
		var words []string
		for _, w := range strings.Split(s, " ") {
			words = append(words, regexp.QuoteMeta(w))
		}
		return strings.Join(words, `\s+`)
	}
	return regexp.MustCompile(literal(before) + figureSlot + literal(after))
}

// helpText is what `moonchat COMMAND --help` documents: the long text, the examples and the
// usage of every flag, its own and inherited.
func helpText(t *testing.T, root *cobra.Command, command string) string {
	t.Helper()
	c, _, err := root.Find(strings.Fields(command)[1:])
	if err != nil || c.CommandPath() != command {
		t.Fatalf("no command %q: %v", command, err)
	}
	var b strings.Builder
	b.WriteString(c.Long + "\n" + c.Example + "\n")
	visit := func(f *pflag.Flag) {
		name, usage := pflag.UnquoteUsage(f)
		b.WriteString("--" + f.Name + " " + name + " " + usage + "\n")
	}
	c.Flags().VisitAll(visit)
	c.InheritedFlags().VisitAll(visit)
	return b.String()
}

// The docs' ways of writing a limit: sizes in binary units named KB and MB, waits in seconds
// or minutes (milliseconds below a second). A value that is not a whole number of its unit is
// written so that it differs from any figure the docs could state.
func size(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

func seconds(d time.Duration) string {
	if d%time.Second != 0 {
		return d.String()
	}
	return fmt.Sprintf("%d s", d/time.Second)
}

func millis(d time.Duration) string {
	if d%time.Millisecond != 0 {
		return d.String()
	}
	return fmt.Sprintf("%d ms", d/time.Millisecond)
}

func minutes(d time.Duration) string {
	if d%time.Minute != 0 {
		return d.String()
	}
	return fmt.Sprintf("%d minutes", d/time.Minute)
}

func minShort(d time.Duration) string {
	if d%time.Minute != 0 {
		return d.String()
	}
	return fmt.Sprintf("%d min", d/time.Minute)
}
