package chat

import (
	"fmt"
	"strings"
)

// severalAnswers keeps the answers to a request for several (-n) apart while they arrive
// interleaved; the text and markdown outputs print each whole, after answerHeader, when the
// stream ends.
type severalAnswers []*strings.Builder

// add appends text to answer choice, whose index the stream checked against n.
func (a *severalAnswers) add(choice int, text string) {
	for len(*a) <= choice {
		*a = append(*a, &strings.Builder{})
	}
	(*a)[choice].WriteString(text)
}

// answerHeader is the line before answer i of several.
func answerHeader(i int) string { return fmt.Sprintf("--- answer %d ---\n", i+1) }
