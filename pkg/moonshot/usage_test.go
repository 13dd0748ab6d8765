package moonshot

import (
	"reflect"
	"testing"
)

func TestCombineUsage(t *testing.T) {
	reasoning := func(n int) *CompletionTokensDetails { return &CompletionTokensDetails{ReasoningTokens: n} }
	a := &Usage{PromptTokens: 10, CompletionTokens: 5, TotalTokens: 15, CompletionTokensDetails: reasoning(2)}
	b := &Usage{PromptTokens: 10, CompletionTokens: 7, TotalTokens: 17, CompletionTokensDetails: reasoning(3)}
	c := &Usage{PromptTokens: 10, CompletionTokens: 1, TotalTokens: 11}
	top := &Usage{PromptTokens: 10, CompletionTokens: 99, TotalTokens: 109}

	if got := CombineUsage(nil, nil); got != nil {
		t.Errorf("nothing reported: %+v, want nil", got)
	}
	if got := CombineUsage(nil, []*Usage{nil, nil}); got != nil {
		t.Errorf("no choice reported: %+v, want nil", got)
	}
	if got := CombineUsage(top, []*Usage{a, b}); !reflect.DeepEqual(got, top) || got == top {
		t.Errorf("top-level report wins, copied: %+v", got)
	}
	got := CombineUsage(nil, []*Usage{nil, a, b, c})
	want := &Usage{PromptTokens: 10, CompletionTokens: 13, TotalTokens: 23, CompletionTokensDetails: reasoning(5)}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("choices combined: %+v (%+v), want %+v (%+v)", got, got.CompletionTokensDetails, want, want.CompletionTokensDetails)
	}
	if a.CompletionTokensDetails.ReasoningTokens != 2 || a.CompletionTokens != 5 {
		t.Errorf("combining changed its argument: %+v", a)
	}
	got = CombineUsage(nil, []*Usage{c, a})
	if got.ReasoningTokens() != 2 || got.CompletionTokens != 6 {
		t.Errorf("details from a later choice: %+v", got)
	}
}
