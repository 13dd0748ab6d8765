package chat

// The path of one prompt through this package, file by file, top-down. TestStageOrder keeps
// it so: a file calls only the files listed below it, so no file is visited twice.
//
// moonchat chat "question" (one-shot, markdown on a terminal, history on):
//
//	chat.go                  flags and config into Options (-r: role.go; feature flags: features.go)
//	run.go                   one question or the session; the run's settings, tools, thread, client
//	exchange.go              the request after the thread's earlier turns, then the engine:
//	pkg/converse prepare.go  the fixes, -m auto, the -f/-i files (read by attach.go, a leaf)
//	pkg/converse answer.go   the stream (pkg/moonshot → the wire); each event to the observer:
//	observe.go               the engine's Observer: notices, tool lines, statuses on stderr
//	progress.go              the spinner and "thinking… N tokens", in front of the output
//	output.go                the output the format asks for, made before the request (text, json)
//	markdown.go              the answer rendered while it streams (pkg/render)
//
// Then exchange.go saves the exchange (thread.go) and run.go copies the answer for --copy
// (clipboard.go): returns, no file entered again.
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
