package converse

import "github.com/moonchat/moonchat/pkg/moonshot"

// partialMessage is Partial Mode's last message: the assistant's answer so far, which the
// model continues (a prefill, or an answer cut at its token limit).
func partialMessage(text string) moonshot.Message {
	return moonshot.Message{Role: "assistant", Content: moonshot.Text(text), Partial: true}
}
