package converse_test

// The path of one turn through this package, file by file, top-down. TestStageOrder keeps it
// so: a file calls only the files listed below it.
//
//	converse.go   the Engine, the Turn and the Observer; Run is Prepare, then Answer
//	prepare.go    Prepare: the attachments, "auto"'s model, the output budget, Moonshot's fixes
//	attach.go     text files inlined, documents uploaded and extracted (files API)
//	answer.go     Answer: each request streamed (pkg/moonshot → the wire), its events to the
//	              Observer, then a round trip or the end: the parts stitched into one answer
//	tools.go      the tool round trip: each call run by the caller's Tools, its result sent back
//	websearch.go  the $web_search round trip
//	partial.go    Partial Mode's message (a prefill, an answer continued after "length")
//
// truncation.go and formulas.go are leaves the caller uses directly (Engine.Truncation after
// an answer, Formulas as Tools).

import (
	"testing"

	"github.com/moonchat/moonchat/internal/stageorder"
)

func TestStageOrder(t *testing.T) {
	stageorder.Check(t, ".",
		[]string{"converse.go", "prepare.go", "attach.go", "answer.go", "tools.go", "websearch.go", "partial.go"},
		[]string{"truncation.go", "formulas.go"})
}
