package chat

// The path of one prompt through this package, file by file, top-down. TestStageOrder keeps
// it so: a file calls only the files listed below it, so no file is visited twice.
//
// moonchat chat "question" (one-shot, markdown on a terminal, history on):
//
//	chat.go          flags and config into Options (role.go, features.go: -r and the feature flags)
//	run.go           one question or the session; the run's settings, tools, thread and client
//	exchange.go      the request; pkg/converse prepares it (attach.go reads -f/-i, toolbox.go the tools)
//	                 and answers it: converse.go → prepare.go → attach.go, then answer.go → tools.go
//	                 → pkg/moonshot → the wire; the events come back through the observer:
//	observe.go       the engine's Observer: notices, tool lines and statuses on stderr
//	progress.go      the spinner and the reasoning ("thinking… N tokens") in front of the output
//	output.go        the output the format asks for
//	markdown.go      the answer rendered while it streams (pkg/render)
//	exchange.go      (returned to) saves the exchange through thread.go, prints -u's usage
//	run.go           (returned to) copies the answer with --copy (clipboard.go)
//
// A question in the session:
//
//	chat.go → run.go
//	session.go           the line editor's loop: a message or a slash command
//	session_commands.go  /model, /role, /retry, /copy …; /edit, /resume, /history, /file below it
//	session_ask.go       one question: Ctrl-C stops its answer, not the session
//	exchange.go          and on as in the one-shot path
//
// The leaves (settings, roles, features, attachments, tools, history, usage, clipboard, line
// editor, notices) are called from any stage and call nothing above them.

import (
	"testing"

	"github.com/moonchat/moonchat/internal/stageorder"
)

// chatStages are the files of the path, top to bottom.
var chatStages = []string{
	"chat.go",
	"run.go",
	"session.go",
	"session_complete.go",
	"session_commands.go",
	"session_edit.go",
	"session_resume.go",
	"session_history.go",
	"session_attach.go",
	"session_ask.go",
	"exchange.go",
	"observe.go",
	"progress.go",
	"output.go",
	"markdown.go",
	"several_answers.go",
}

// chatLeaves are the files any stage may call, which call only the leaves below them.
var chatLeaves = []string{
	"settings.go",
	"role.go",
	"features.go",
	"attach.go",
	"toolbox.go",
	"thread.go",
	"session_usage.go",
	"clipboard.go",
	"editor.go",
	"notices.go",
	"schema.go",
}

func TestStageOrder(t *testing.T) {
	stageorder.Check(t, ".", chatStages, chatLeaves)
}
