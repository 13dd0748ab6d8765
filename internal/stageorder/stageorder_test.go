package stageorder

import (
	"slices"
	"testing"
)

func TestViolations(t *testing.T) {
	g, err := Load("testdata/twofiles")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		order []string
		want  []string
	}{
		{"calls up", []string{"top.go", "bottom.go"}, []string{
			"bottom.go:8: down calls Helper, defined above it in top.go: move one of them to the stage it belongs to",
			"bottom.go:10: down calls (*T).Top, defined above it in top.go: move one of them to the stage it belongs to",
			"bottom.go:11: down calls Box.Get, defined above it in top.go: move one of them to the stage it belongs to",
		}},
		{"calls down", []string{"bottom.go", "top.go"}, []string{
			"top.go:10: (*T).Top calls down, defined above it in bottom.go: move one of them to the stage it belongs to",
		}},
		{"files listed wrong", []string{"top.go", "top.go", "gone.go"}, []string{
			"top.go is listed twice in the stage order",
			"bottom.go is not in the stage order: list it under the stage it holds",
			"gone.go is in the stage order but not in the package",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := g.Violations(tc.order); !slices.Equal(got, tc.want) {
				t.Errorf("Violations(%q):\n got %q\nwant %q", tc.order, got, tc.want)
			}
		})
	}
}
