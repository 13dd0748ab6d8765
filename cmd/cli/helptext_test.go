package cli_test

import (
	"fmt"
	"testing"

	"github.com/moonchat/moonchat/cmd/cli"
)

func TestDoc(t *testing.T) {
	for _, c := range []struct{ name, raw, want string }{
		{"empty", "", ""},
		{"one line", "  as is  ", "  as is  "},
		{"leading newline dropped, common tabs removed", "\n\t\tfirst\n\t\tsecond\n\t", "first\nsecond\n"},
		{"deeper lines keep their extra indentation", "\n\t\t$ moonchat chat\n\t\t  # comment\n\t\t\tcode\n\t", "$ moonchat chat\n  # comment\n\tcode\n"},
		{"blank lines do not count, shorter ones stay", "\n\t\ta\n\n\t\t\n\t\t\t\n\t\tb\n\t", "a\n\n\n\t\nb\n"},
		{"first line kept without a leading newline", "Usage:\n    x\n      y\n  ", "Usage:\nx\n  y\n"},
		{"spaces count like tabs", "\n    a\n  b\n", "  a\nb\n"},
		{"no text at all", "\n  \n  ", "  \n"},
		{"no trailing newline", "\n\tx\n\ty", "x\ny"},
		{"percent signs are text", "\n\t100%\n", "100%\n"},
	} {
		if got := cli.Doc(c.raw); got != c.want {
			t.Errorf("%s: Doc(%q) = %q, want %q", c.name, c.raw, got, c.want)
		}
	}
}

func TestDocf(t *testing.T) {
	if got, want := cli.Docf("\n\t\tcode %d\n\t\t%s\n\t", 2, "x"), "code 2\nx\n"; got != want {
		t.Errorf("Docf = %q, want %q", got, want)
	}
}

func BenchmarkDoc(b *testing.B) {
	raw := "\n\t\t\tmoonchat talks to Moonshot AI's Kimi models: one-shot questions, piped input,\n" +
		"\t\t\tstreamed markdown answers, and an OpenAI-compatible proxy.\n\n\t\t\t  $ moonchat chat \"hello\"\n\t\t"
	b.ReportAllocs()
	for b.Loop() {
		cli.Doc(raw)
	}
}

func ExampleDoc() {
	fmt.Print(cli.Doc(`
		Examples:
		  $ moonchat chat "hello"
	`))
	// Output:
	// Examples:
	//   $ moonchat chat "hello"
}
