package chat

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/moonchat/moonchat/cmd/cli"
	"github.com/moonchat/moonchat/pkg/build"
	"github.com/moonchat/moonchat/pkg/config"
	"github.com/moonchat/moonchat/pkg/converse"
	"github.com/moonchat/moonchat/pkg/mcphost"
	"github.com/moonchat/moonchat/pkg/moonshot"
)

// ToolTimeout bounds one call of a tool: a tool that hangs must not hold the answer until
// --timeout. Exported for the test that holds the README to it.
const ToolTimeout = 2 * time.Minute

// toolbox is the tools one run lets the model use: Moonshot's official tools (--tool) and the
// MCP servers' (--mcp, mcp_default). Declarations are fetched and servers started when the
// first question needs them, once a run; close stops the servers.
type toolbox struct {
	opts     *Options
	declared map[moonshot.Formula][]moonshot.Tool
	host     *mcphost.Host
	allow    *mcphost.AllowList
	// interactive: MCP calls are approved at a prompt (stdin and stderr are terminals).
	interactive bool
	// keys, in the session, asks with one key on the line editor's terminal; nil asks for a
	// line.
	keys keyAsker
}

// keyAsker is an editor that can ask for one of a few keys: the session's terminal editor.
type keyAsker interface {
	// askKey returns one of keys (the last one for Esc and Ctrl-D) after showing prompt and
	// then the key's word; Ctrl-C returns errLineInterrupted, and the end of ctx its error.
	askKey(ctx context.Context, prompt string, keys string, words []string) (byte, error)
}

func (opts *Options) newToolbox(interactive bool) *toolbox {
	// allow_tools was checked when the config was read.
	allow, _ := mcphost.NewAllowList(opts.Config.Value(config.KeyAllowTools).List())
	return &toolbox{opts: opts, allow: allow, interactive: interactive && opts.IO.IsStdinTTY() && opts.IO.IsStderrTTY()}
}

// close stops the MCP servers the run started, with every process they started.
func (tb *toolbox) close() {
	if tb != nil && tb.host != nil {
		_ = tb.host.Close()
	}
}

// prepare adds the declarations of the features' tools to req and returns what runs their
// calls (nil when there are none).
func (tb *toolbox) prepare(ctx context.Context, client *moonshot.Client, f *Features, req *moonshot.ChatRequest) (converse.Tools, error) {
	if len(f.formulas) == 0 && len(f.MCP) == 0 {
		return nil, nil
	}
	set := &moonshot.FormulaSet{}
	var own []string
	for _, t := range f.tools {
		if t.Function != nil {
			own = append(own, t.Function.Name)
		}
	}
	if err := set.Reserve("--tools", own...); err != nil {
		return nil, cli.Usagef("%v", err)
	}
	r := &toolRunner{tb: tb, formulas: &converse.Formulas{Client: client, Set: set}, mcp: map[string]mcphost.Tool{}, yes: f.Yes}
	if err := tb.addFormulas(ctx, client, f.formulas, set); err != nil {
		return nil, err
	}
	req.Tools = append(req.Tools, set.Tools()...)
	if len(f.MCP) > 0 {
		mcpTools, err := tb.serverTools(ctx, f.MCP)
		if err != nil {
			return nil, err
		}
		for _, t := range mcpTools {
			if err := set.Reserve("mcp:"+t.Server, t.Name); err != nil {
				return nil, cli.Usagef("%v", err)
			}
			r.mcp[t.Name] = t
			req.Tools = append(req.Tools, moonshot.Tool{Type: "function",
				Function: &moonshot.FunctionDef{Name: t.Name, Description: t.Description, Parameters: t.InputSchema}})
		}
	}
	return r, nil
}

// addFormulas fetches the formulas' declarations (GET /formulas/URI/tools), once a run.
func (tb *toolbox) addFormulas(ctx context.Context, client *moonshot.Client, formulas []moonshot.Formula, set *moonshot.FormulaSet) error {
	if tb.declared == nil {
		tb.declared = map[moonshot.Formula][]moonshot.Tool{}
	}
	for _, formula := range formulas {
		decl, ok := tb.declared[formula]
		if !ok {
			var err error
			if decl, err = client.FormulaTools(ctx, formula); err != nil {
				var apiErr *moonshot.APIError
				if errors.As(err, &apiErr) && apiErr.StatusCode == http.StatusNotFound {
					return &cli.UsageError{Err: fmt.Errorf("--tool %s: Moonshot has no such official tool", formula),
						Hint: "the official ones are moonshot/NAME:latest, e.g. moonshot/fetch:latest, moonshot/date:latest"}
				}
				return fmt.Errorf("--tool %s: %w", formula, err)
			}
			tb.declared[formula] = decl
		}
		if err := set.Add(formula, decl); err != nil {
			return cli.Usagef("--tool: %v", err)
		}
	}
	return nil
}

// serverTools starts the servers (once a run) and returns their tools. A server that does
// not start stops the question: the model would be told of tools that cannot run.
func (tb *toolbox) serverTools(ctx context.Context, names []string) ([]mcphost.Tool, error) {
	if tb.host == nil {
		logDir, err := cli.MCPLogDir()
		if err != nil {
			return nil, err
		}
		host, err := mcphost.New(tb.opts.Config.MCPServers(), mcphost.Options{LogDir: logDir, ClientVersion: build.Short(),
			CallTimeout: ToolTimeout, MaxResultBytes: converse.MaxToolResultBytes})
		if err != nil {
			return nil, err
		}
		tb.host = host
	}
	return tb.host.Tools(ctx, names...)
}

// toolRunner runs one question's tool calls: formulas on Moonshot's side, MCP tools here once
// approved.
type toolRunner struct {
	tb       *toolbox
	formulas *converse.Formulas
	mcp      map[string]mcphost.Tool
	yes      bool
}

func (r *toolRunner) Runs(name string) bool {
	_, ok := r.mcp[name]
	return ok || r.formulas.Runs(name)
}

func (r *toolRunner) Run(ctx context.Context, call moonshot.ToolCall) (converse.ToolResult, error) {
	t, ok := r.mcp[call.Function.Name]
	if !ok {
		return r.formulas.Run(ctx, call)
	}
	approved, err := r.approve(ctx, t, call)
	if err != nil {
		return converse.ToolResult{}, err
	}
	if !approved {
		return converse.ToolResult{Failed: true, Content: fmt.Sprintf("error: the user did not approve this call of %s/%s", t.Server, t.Name)}, nil
	}
	res, err := r.tb.host.Call(ctx, t.Server, t.Name, call.Function.Arguments)
	if err != nil {
		if ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded) {
			return converse.ToolResult{Failed: true, Content: "error: " + err.Error()}, nil
		}
		return converse.ToolResult{}, err
	}
	// Bytes: the size before mcphost's cut, plus the "error: " that Content adds.
	content := res.Content()
	return converse.ToolResult{Content: content, Failed: res.IsError, Bytes: res.Bytes + len(content) - len(res.Text)}, nil
}

// approve decides whether an MCP call runs: --yes and allow_tools approve it; on a terminal
// the user is asked (yes, no, or always for this tool in this run); elsewhere it is refused,
// and the model reads that it was not approved. Never approved silently.
func (r *toolRunner) approve(ctx context.Context, t mcphost.Tool, call moonshot.ToolCall) (bool, error) {
	tb := r.tb
	if r.yes || tb.allow.Allows(t.Server, t.Name) {
		return true, nil
	}
	if !tb.interactive {
		tb.opts.notice("not approved: %s/%s (give --yes, or add it to allow_tools)", t.Server, t.Name)
		return false, nil
	}
	io := tb.opts.IO
	io.StopSpinner()
	prompt := fmt.Sprintf("run %s from MCP server %s with %s? [y]es, [n]o, [a]lways for this tool: ",
		cli.ShownLine(t.Name), cli.ShownLine(t.Server), approvalArgs(call.Function.Arguments))
	var answer string
	if tb.keys != nil {
		key, err := tb.keys.askKey(ctx, prompt, "yan", []string{"yes", "always", "no"})
		switch {
		case ctx.Err() != nil:
			return false, ctx.Err()
		case errors.Is(err, errLineInterrupted):
			// Ctrl-C is a key while the prompt holds the terminal: it stops the answer as
			// the signal would, and what happened so far is kept.
			return false, context.Canceled
		case err != nil:
			return false, nil // the terminal is gone: not approved
		}
		answer = string(key)
	} else {
		fmt.Fprint(io.ErrOut, prompt)
		line, err := cli.ReadCancellable(ctx, func() ([]byte, error) {
			s, err := bufio.NewReader(io.In).ReadString('\n')
			return []byte(s), err
		})
		if err != nil {
			if ctx.Err() != nil {
				return false, ctx.Err()
			}
			return false, nil // the terminal closed: not approved
		}
		answer = strings.ToLower(strings.TrimSpace(string(line)))
	}
	switch answer {
	case "y", "yes":
		return true, nil
	case "a", "always":
		tb.allow.Always(t.Server, t.Name)
		return true, nil
	}
	return false, nil
}

// maxApprovalArgs is how much of a call's arguments the approval prompt shows: enough to
// judge a call, which the 60 characters of the tool line are not.
const maxApprovalArgs = 2000

// approvalArgs is the arguments of a call as the user is asked about them: on one line,
// defanged, and cut (saying how much) only when very long.
func approvalArgs(args string) string {
	s := []rune(cli.ShownLine(args))
	if len(s) <= maxApprovalArgs {
		return string(s)
	}
	return fmt.Sprintf("%s… (%d more characters)", string(s[:maxApprovalArgs]), len(s)-maxApprovalArgs)
}
