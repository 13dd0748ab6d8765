package chat

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/moonchat/moonchat/cmd/cli"
)

// sessionCommand is one slash command: /help lists the table and Tab completes from it.
type sessionCommand struct {
	name, args, summary string
}

var sessionCommands = []sessionCommand{
	{"help", "", "this help"},
	{"model", "[NAME]", "show the model, or switch to NAME for the next questions"},
	{"role", "[NAME]", "switch to a role of the config file (its system prompt, model…), or list them"},
	{"system", "[TEXT]", "show the system prompt, or set it (/system - removes it)"},
	{"new", "", "start a new conversation (also /clear)"},
	{"resume", "ID|TITLE", "switch to a saved conversation (an id, a unique id prefix or an exact title)"},
	{"file", "PATH", "attach a file to the next question, as -f does (text inlined, documents extracted)"},
	{"image", "PATH", "attach an image to the next question, as -i does (needs a vision model)"},
	{"copy", "[code [N]]", "copy the last answer, or its last (N-th) code block, to the clipboard"},
	{"fork", "", "copy the conversation so far into a new one and go on there"},
	{"retry", "", "ask the last question again (its answer is dropped)"},
	{"edit", "[TEXT|last]", "write the next message in $VISUAL or $EDITOR, then Enter sends it; last: edit the last question and replace its exchange"},
	{"history", "", "list recent conversations"},
	{"usage", "", "tokens and estimated cost of this conversation so far"},
	{"exit", "", "quit (also /quit, Ctrl-D, or Ctrl-C twice on an empty line)"},
}

// sessionHelp is /help: the commands, then the keys.
func sessionHelp() string {
	var b strings.Builder
	b.WriteString("Commands:\n")
	for _, c := range sessionCommands {
		fmt.Fprintf(&b, "  %-15s %s\n", strings.TrimSpace("/"+c.name+" "+c.args), c.summary)
	}
	b.WriteString(`Keys:
  Tab completes commands, model ids, conversations, roles and paths.
  Enter sends; Alt-Enter, or \ at the end of a line, starts a new line; a paste is one message.
  Ctrl-C stops an answer and keeps what arrived; on a line being typed, it drops the line.
  Up and Down walk through what you typed before; Ctrl-R searches it.
A message that starts with / is sent by doubling it: //etc/hosts is "/etc/hosts".
`)
	return b.String()
}

// modelCheckTimeout bounds the GET /models behind /model: the prompt must come back.
const modelCheckTimeout = 15 * time.Second

// command runs a slash command and reports whether the session ends.
func (s *session) command(ctx context.Context, name, arg string) (quit bool) {
	o := s.opts
	switch name {
	case "help", "?":
		fmt.Fprint(o.IO.Out, sessionHelp())
	case "exit", "quit", "q":
		return true
	case "model":
		s.switchModel(ctx, arg)
	case "system":
		switch arg {
		case "":
			if s.set.System == "" {
				fmt.Fprintln(o.IO.Out, "(no system prompt)")
			} else {
				fmt.Fprintln(o.IO.Out, cli.Shown(s.set.System))
			}
		case "-":
			s.set.System = ""
			s.note("system prompt removed")
		default:
			s.set.System = arg
			s.note("system prompt set")
		}
	case "clear", "new":
		s.th, s.failed = &thread{save: s.th.save, open: s.th.open}, nil
		s.set.Title = "" // --title named the conversation the session started with
		s.note("new conversation")
	case "retry":
		if s.failed != nil {
			s.ask(ctx, *s.failed)
			break
		}
		resend, err := s.th.dropLastExchange(ctx)
		if err != nil {
			s.report(err)
			break
		}
		s.ask(ctx, question{resend: resend})
	case "edit":
		s.edit(ctx, arg)
	case "history":
		s.listRecent(ctx)
	case "resume":
		s.resume(ctx, arg)
	case "copy":
		if err := o.copyAnswer(s.th.lastAnswer(), arg); err != nil {
			s.report(err)
		}
	case "role":
		s.switchRole(ctx, arg)
	case "fork":
		s.fork(ctx)
	case "file", "image":
		s.attachNext(ctx, name, arg)
	case "usage":
		fmt.Fprintln(o.IO.Out, "conversation so far: "+s.th.usageTotal().String())
	default:
		s.report(fmt.Errorf("unknown command /%s; /help lists them (start a message with // to send one that begins with /)", name))
	}
	return false
}

// switchModel is /model: the model is checked against the table and GET /models first, so a
// typo is an error now instead of a 404 on the next question; the session keeps its model.
func (s *session) switchModel(ctx context.Context, model string) {
	o := s.opts
	if model == "" {
		fmt.Fprintln(o.IO.Out, cli.ShownLine(s.set.Model))
		return
	}
	check := s.set.Features.checkModel(model)
	if model == "auto" {
		check = s.set.Features.checkAutoModels()
	}
	notice := ""
	if check == nil {
		ctx, cancel := context.WithTimeout(ctx, modelCheckTimeout)
		notice, check = cli.CheckModel(ctx, s.client, model)
		cancel()
	}
	if check != nil {
		s.report(check)
		s.note("still on %s", cli.ShownLine(s.set.Model))
		return
	}
	s.set.Model = model
	s.note("model: %s", model)
	if notice != "" {
		o.notice("%s", notice)
	}
}

// switchRole is /role NAME in the session: the role's model is checked as /model checks one,
// its tools file read, and only then is anything changed.
func (s *session) switchRole(ctx context.Context, name string) {
	o, set := s.opts, s.set
	if name == "" {
		if set.Role == "" {
			fmt.Fprintln(o.IO.Out, "(no role)")
		} else {
			fmt.Fprintln(o.IO.Out, set.Role)
		}
		for _, r := range o.Config.Roles() {
			fmt.Fprintf(o.IO.Out, "  %-14s %s\n", r.Name, cli.ShownLine(firstLine(r.System)))
		}
		return
	}
	r, err := lookupRole(o.Config, name)
	if err != nil {
		s.report(err)
		return
	}
	trial := *set
	trial.applyRole(r, o.Config.FilePath(), func(string) bool { return false })
	if err := trial.Features.checkModel(trial.Model); err != nil {
		s.report(err)
		return
	}
	if trial.Model != set.Model && trial.Model != "auto" {
		checkCtx, cancel := context.WithTimeout(ctx, modelCheckTimeout)
		_, err := cli.CheckModel(checkCtx, s.client, trial.Model) // a retired model's notice comes with its question
		cancel()
		if err != nil {
			s.report(fmt.Errorf("role %s: %w", r.Name, err))
			return
		}
	}
	if trial.Features.ToolsFile != set.Features.ToolsFile {
		tools, err := readTools(trial.Features.ToolsFile)
		if err != nil {
			s.report(err)
			return
		}
		trial.Features.tools = tools
	}
	*set = trial
	s.note("role %s · model %s", r.Name, cli.ShownLine(set.Model))
}
