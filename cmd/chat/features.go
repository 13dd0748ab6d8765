package chat

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/moonchat/moonchat/cmd/cli"
	"github.com/moonchat/moonchat/pkg/config"
	"github.com/moonchat/moonchat/pkg/converse"
	"github.com/moonchat/moonchat/pkg/moonshot"
)

// Features are the flags for what Moonshot offers beyond OpenAI's shape: document extraction,
// images, the $web_search builtin, tool declarations, Partial Mode, the thinking switches and
// the choice of a model by context length.
type Features struct {
	Files           []string // -f: text inlined, documents extracted by Moonshot ("-" = stdin)
	Images          []string // -i
	KeepFiles       bool     // false: delete uploads once their text is extracted
	WebSearch       bool
	ToolsFile       string
	ToolChoice      string
	Prefill         string
	MaxContinues    int
	NoThinking      bool
	ReasoningEffort string
	AutoModels      []string // the auto_models setting, for -m auto
	Formulas        []string // --tool: Moonshot's official tools, run by moonchat's tool loop
	MaxSteps        int      // --max-steps: tool round trips of one answer

	MCP []string // --mcp and mcp_default: the MCP servers whose tools the model may use
	Yes bool     // --yes: run MCP tools without asking

	formulas []moonshot.Formula // parsed from Formulas

	tools []moonshot.Tool // read from ToolsFile
}

func addFeatureFlags(cmd *cobra.Command, f *Features) {
	fl := cmd.Flags()
	fl.StringArrayVarP(&f.Files, "file", "f", nil, "attach the file at `PATH` (repeatable; - reads stdin): text is inlined, documents (pdf, docx, xlsx, pptx…) are extracted by Moonshot")
	fl.StringArrayVarP(&f.Images, "image", "i", nil, "attach the image at `PATH`: png, jpeg, webp or gif (repeatable; needs a vision model)")
	fl.BoolVar(&f.KeepFiles, "keep-files", true, "keep uploaded documents in your Moonshot files for reuse (false: delete each once its text is extracted)")
	fl.BoolVar(&f.WebSearch, "web-search", false, "let the model search the web with Moonshot's $web_search (billed per search)")
	fl.StringVar(&f.ToolsFile, "tools", "", "declare tools from a JSON `FILE` (OpenAI format); the model's calls are printed, not run")
	fl.StringVar(&f.ToolChoice, "tool-choice", "", "tool `CHOICE`: auto, none, required, or the name of a declared tool")
	fl.StringVar(&f.Prefill, "prefill", "", "start the answer with `TEXT` (Moonshot's Partial Mode); the model continues it")
	fl.IntVar(&f.MaxContinues, "max-continues", 0, fmt.Sprintf("continue an answer cut by --max-tokens up to `N` times (at most %d), seamlessly (Partial Mode)", MaxContinues))
	fl.StringArrayVar(&f.Formulas, "tool", nil, "let the model use Moonshot's official tool `URI` (repeatable), e.g. moonshot/fetch:latest; moonchat runs its calls")
	fl.IntVar(&f.MaxSteps, "max-steps", converse.DefaultMaxSteps, fmt.Sprintf("run at most `N` rounds of tool calls for one answer (1 to %d)", maxSteps))
	fl.StringArrayVar(&f.MCP, "mcp", nil, "let the model use the tools of the MCP server `NAME` (from mcp_servers in the config; repeatable; mcp_default adds more)")
	fl.BoolVar(&f.Yes, "yes", false, "run MCP tools without asking (otherwise: ask on a terminal, refuse elsewhere unless allow_tools lists them)")
	fl.BoolVar(&f.NoThinking, "no-thinking", false, "answer without thinking (kimi-k2.6)")
	fl.StringVar(&f.ReasoningEffort, "reasoning-effort", "", "`LEVEL` of kimi-k3's thinking: low, high or max")
}

// MaxContinues caps --max-continues: each continuation is a billed request.
const MaxContinues = 20

// parseFeatureFlags checks the feature flags that do not depend on the model and reads the
// tools file. The model-dependent checks run once the model is known (checkModel).
func parseFeatureFlags(cmd *cobra.Command, cfg *config.Config, opts *Options) error {
	f := &opts.Settings.Features
	flags := cmd.Flags()
	f.AutoModels = cfg.Value(config.KeyAutoModels).List()
	if flags.Changed("prefill") && f.Prefill == "" {
		return cli.Usagef("--prefill needs a text to start the answer with")
	}
	for _, name := range cfg.Value(config.KeyMCPDefault).List() {
		if !slices.Contains(f.MCP, name) {
			f.MCP = append(f.MCP, name)
		}
	}
	if err := cfg.CheckMCPServers(f.MCP, "--mcp"); err != nil {
		return &cli.UsageError{Err: err}
	}
	if f.MaxSteps < 1 || f.MaxSteps > maxSteps {
		return cli.Usagef("--max-steps must be 1 to %d, not %d", maxSteps, f.MaxSteps)
	}
	for _, uri := range f.Formulas {
		formula, err := moonshot.ParseFormula(uri)
		if err != nil {
			return cli.Usagef("--tool %s: %v", uri, err)
		}
		f.formulas = append(f.formulas, formula)
	}
	if f.MaxContinues < 0 || f.MaxContinues > MaxContinues {
		// Each continuation is a billed request: a typo must not send thousands.
		return cli.Usagef("--max-continues must be 0 to %d, not %d", MaxContinues, f.MaxContinues)
	}
	switch f.ReasoningEffort {
	case "", "low", "high", "max":
	default:
		return cli.Usagef("--reasoning-effort must be low, high or max, not %q", f.ReasoningEffort)
	}
	if opts.N != nil && *opts.N > 1 {
		for _, c := range []struct {
			on   bool
			flag string
		}{{f.WebSearch, "--web-search"}, {len(f.Formulas) > 0, "--tool"}, {len(f.MCP) > 0, "--mcp"}, {f.Prefill != "", "--prefill"}, {f.MaxContinues > 0, "--max-continues"}} {
			if c.on {
				return cli.Usagef("%s works with one answer at a time; drop -n", c.flag)
			}
		}
	}
	if opts.JSONMode && (f.Prefill != "" || f.MaxContinues > 0) {
		return cli.Usagef("--prefill and --max-continues use Partial Mode, which Moonshot does not allow with --json-mode; prefill \"{\" instead")
	}
	if slices.Contains(f.Images, "-") {
		return cli.Usagef("-i does not read standard input; give the image's path")
	}
	if n := countOf(f.Files, "-"); n > 1 {
		return cli.Usagef("-f - (standard input) can be given only once")
	} else if n == 1 && !opts.IO.StdinIsPipeOrFile() {
		return cli.Usagef("-f -: standard input is a terminal; pipe or redirect the file in")
	}
	if f.ToolsFile != "" {
		tools, err := readTools(f.ToolsFile)
		if err != nil {
			return err
		}
		f.tools = tools
	}
	return f.checkToolChoice()
}

func countOf(list []string, s string) int {
	n := 0
	for _, x := range list {
		if x == s {
			n++
		}
	}
	return n
}

// readTools reads an OpenAI tools file: an array of tools, or an object with a "tools" array.
// A tool without "type" is taken as a function, as OpenAI's SDKs do.
func readTools(path string) ([]moonshot.Tool, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, cli.Usagef("--tools: %v", err)
	}
	data = bytes.TrimSpace(data)
	var tools []moonshot.Tool
	if len(data) > 0 && data[0] == '{' {
		var wrapper struct {
			Tools *[]moonshot.Tool `json:"tools"`
		}
		if err := json.Unmarshal(data, &wrapper); err != nil {
			return nil, cli.Usagef("--tools %s: %v", path, err)
		}
		if wrapper.Tools == nil {
			return nil, cli.Usagef(`--tools %s: expected an array of tools or an object {"tools": [...]}`, path)
		}
		tools = *wrapper.Tools
	} else if err := json.Unmarshal(data, &tools); err != nil {
		return nil, cli.Usagef(`--tools %s: expected an array of tools or an object {"tools": [...]}: %v`, path, err)
	}
	if len(tools) == 0 {
		return nil, cli.Usagef("--tools %s declares no tools", path)
	}
	for i := range tools {
		if tools[i].Type == "" && tools[i].Function != nil {
			tools[i].Type = "function"
		}
	}
	if err := moonshot.ValidateTools(tools); err != nil {
		return nil, cli.Usagef("--tools %s: %v", path, err)
	}
	return tools, nil
}

func (f *Features) checkToolChoice() error {
	switch f.ToolChoice {
	case "":
		return nil
	case "auto", "none", "required":
		if len(f.tools) == 0 && !f.WebSearch && len(f.Formulas) == 0 && len(f.MCP) == 0 {
			return cli.Usagef("--tool-choice needs tools: declare them with --tools FILE (or use --web-search)")
		}
		return nil
	}
	var names []string
	for _, t := range f.tools {
		if t.Type == "function" && t.Function != nil {
			if t.Function.Name == f.ToolChoice {
				return nil
			}
			names = append(names, t.Function.Name)
		}
	}
	if len(names) == 0 {
		return cli.Usagef("--tool-choice %s: no such tool; declare it with --tools FILE (or use auto, none or required)", f.ToolChoice)
	}
	return cli.Usagef("--tool-choice must be auto, none, required or a declared tool (%s), not %q", strings.Join(names, ", "), f.ToolChoice)
}

// toolChoice is the request's tool_choice, nil when not given.
func (f *Features) toolChoice() *moonshot.ToolChoice {
	switch f.ToolChoice {
	case "":
		return nil
	case "auto", "none", "required":
		return &moonshot.ToolChoice{Mode: f.ToolChoice}
	}
	return &moonshot.ToolChoice{Function: f.ToolChoice}
}

// checkModel refuses, before any request, the features the model does not take.
func (f *Features) checkModel(model string) error {
	spec, known := moonshot.LookupModel(model)
	if len(f.Images) > 0 && known && !spec.Vision {
		return cli.Usagef("%s does not accept images (-i); use a vision model: %s", spec.ID, strings.Join(moonshot.VisionModels(), ", "))
	}
	if f.NoThinking && spec.Thinking != moonshot.ThinkingDefault {
		switch {
		case !known:
			return cli.Usagef("--no-thinking: moonchat does not know whether %s can switch thinking off; the switch is for %s", spec.ID, switchableModels())
		case spec.Thinking == moonshot.ThinkingNone:
			return cli.Usagef("--no-thinking: %s does not think anyway; the switch is for %s", spec.ID, switchableModels())
		}
		return cli.Usagef("--no-thinking: %s always thinks; the switch is for %s", spec.ID, switchableModels())
	}
	if f.ReasoningEffort != "" && spec.Family != moonshot.FamilyK3 {
		return cli.Usagef("--reasoning-effort is for kimi-k3, not %s", spec.ID)
	}
	if f.WebSearch && spec.Thinking == moonshot.ThinkingRequired {
		return cli.Usagef("--web-search: %s always thinks, and Moonshot's $web_search needs thinking off; use %s", spec.ID, switchableModels())
	}
	return nil
}

// switchableModels are the current models whose thinking can be switched off.
func switchableModels() string {
	var ids []string
	for _, m := range moonshot.CurrentModels() {
		if m.Thinking == moonshot.ThinkingDefault {
			ids = append(ids, m.ID)
		}
	}
	return strings.Join(ids, " or ")
}

// applyRequestFlags sets the request fields of the features: tools, tool_choice, the
// thinking switches.
func (f *Features) applyRequestFlags(req *moonshot.ChatRequest) {
	req.Tools = append(req.Tools, f.tools...)
	if f.WebSearch {
		req.Tools = append(req.Tools, moonshot.WebSearchTool())
	}
	req.ToolChoice = f.toolChoice()
	if f.NoThinking {
		req.Thinking = &moonshot.Thinking{Type: "disabled"}
	}
	req.ReasoningEffort = f.ReasoningEffort
}

// maxSteps caps --max-steps: each step is a billed request, and a hosted tool's call too.
const maxSteps = 100

// checkAutoModels fails before any request when no model of auto_models takes the flags
// given, with the reason the first one gives.
func (f *Features) checkAutoModels() error {
	var first error
	for _, id := range f.AutoModels {
		err := f.checkModel(id)
		if err == nil {
			return nil
		}
		if first == nil {
			first = err
		}
	}
	if first == nil {
		return cli.Usagef("-m auto: auto_models is empty")
	}
	return &cli.UsageError{Err: fmt.Errorf("-m auto: no model of auto_models (%s) takes these flags: %w", strings.Join(f.AutoModels, ", "), first),
		Hint: "name a model with -m, or add one to auto_models: moonchat config set auto_models " + strings.Join(f.AutoModels, ",") + ",..."}
}
