package moonshot

// CombineUsage is the usage of a whole request from what the server reported: the top-level
// report when there is one (sent when stream_options.include_usage is set; it already covers
// every choice), else the choices' own reports combined. Moonshot reports a choice's usage on
// the chunk that finishes it, each with the same prompt, so the prompt is counted once and the
// completion and reasoning tokens are added. nil when nothing was reported. The result shares
// nothing with its arguments.
func CombineUsage(top *Usage, perChoice []*Usage) *Usage {
	if top != nil {
		return top.clone()
	}
	var sum *Usage
	for _, u := range perChoice {
		if u == nil {
			continue
		}
		if sum == nil {
			sum = u.clone()
			continue
		}
		sum.CompletionTokens += u.CompletionTokens
		sum.TotalTokens = sum.PromptTokens + sum.CompletionTokens
		if u.CompletionTokensDetails != nil {
			if sum.CompletionTokensDetails == nil {
				sum.CompletionTokensDetails = &CompletionTokensDetails{}
			}
			sum.CompletionTokensDetails.ReasoningTokens += u.CompletionTokensDetails.ReasoningTokens
		}
	}
	return sum
}

func (u *Usage) clone() *Usage {
	c := *u
	if u.PromptTokensDetails != nil {
		d := *u.PromptTokensDetails
		c.PromptTokensDetails = &d
	}
	if u.CompletionTokensDetails != nil {
		d := *u.CompletionTokensDetails
		c.CompletionTokensDetails = &d
	}
	return &c
}
