package cli

import (
	"strings"

	"github.com/moonchat/moonchat/pkg/render"
)

// Shown defangs text from outside (the network, the history database) before it is printed
// to a terminal: render.Sanitize, the one sanitizer, which keeps line breaks and tabs and
// lets no escape sequence through.
func Shown(s string) string { return render.Sanitize(s) }

// ShownLine is Shown on one line: a title or an id in a list or a note.
func ShownLine(s string) string {
	return strings.Join(strings.Fields(render.Sanitize(s)), " ")
}
