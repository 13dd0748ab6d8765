package chat

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/moonchat/moonchat/cmd/cli"
)

// attachNext is /file and /image: the path is attached to the next question as -f and -i
// attach to the first one (text inlined, documents extracted through the upload cache,
// images checked against the model's vision). It is read now, so that a wrong path or type
// is said at once rather than after the question is typed. With no path, it lists what is
// attached so far.
func (s *session) attachNext(kind, arg string) {
	o := s.opts
	list := &o.Features.Files
	if kind == "image" {
		list = &o.Features.Images
	}
	path := expandHome(strings.Trim(arg, `"'`))
	if path == "" {
		if len(o.Features.Files)+len(o.Features.Images) == 0 {
			s.note("nothing attached; /file PATH or /image PATH attaches to the next question")
			return
		}
		for _, f := range o.Features.Files {
			fmt.Fprintln(o.IO.Out, "file  "+cli.ShownLine(f))
		}
		for _, f := range o.Features.Images {
			fmt.Fprintln(o.IO.Out, "image "+cli.ShownLine(f))
		}
		return
	}
	if path == "-" {
		s.report(cli.Usagef("/%s needs a file's path: standard input is the terminal in a session", kind))
		return
	}
	// The same reading and checks as -f/-i, on this path alone.
	files, images := o.Features.Files, o.Features.Images
	o.Features.Files, o.Features.Images = nil, nil
	*list = []string{path}
	_, _, err := o.loadAttachments()
	if err == nil && kind == "image" {
		err = o.Features.checkModel(o.Model)
	}
	o.Features.Files, o.Features.Images = files, images
	if err != nil {
		s.report(err)
		return
	}
	*list = append(*list, path)
	s.note("%s attached to the next question (%d in all)", cli.ShownLine(path), len(o.Features.Files)+len(o.Features.Images))
}

// expandHome turns a leading ~/ into the home directory: the session has no shell to do it.
func expandHome(path string) string {
	if rest, ok := strings.CutPrefix(path, "~/"); ok {
		if home, err := os.UserHomeDir(); err == nil {
			return filepath.Join(home, rest)
		}
	}
	return path
}
