package chat

import (
	"context"
	"fmt"
	"strings"

	"github.com/moonchat/moonchat/cmd/cli"
)

// attachNext is /file and /image: the path is attached to the next question as -f and -i
// attach to the first one (text inlined, documents extracted through the upload cache,
// images checked against the model's vision). It is read now, so that a wrong path or type
// is said at once rather than after the question is typed. With no path, it lists what is
// attached so far.
func (s *session) attachNext(ctx context.Context, kind, arg string) {
	o, f := s.opts, &s.set.Features
	list := &f.Files
	if kind == "image" {
		list = &f.Images
	}
	path := expandHome(strings.Trim(arg, `"'`))
	if path == "" {
		if len(f.Files)+len(f.Images) == 0 {
			s.note("nothing attached; /file PATH or /image PATH attaches to the next question")
			return
		}
		for _, p := range f.Files {
			fmt.Fprintln(o.IO.Out, "file  "+cli.ShownLine(p))
		}
		for _, p := range f.Images {
			fmt.Fprintln(o.IO.Out, "image "+cli.ShownLine(p))
		}
		return
	}
	if path == "-" {
		s.report(cli.Usagef("/%s needs a file's path: standard input is the terminal in a session", kind))
		return
	}
	// The same reading and checks as -f/-i, on this path alone.
	var err error
	if kind == "image" {
		if _, _, err = o.loadAttachments(ctx, nil, []string{path}); err == nil {
			withImage := *f
			withImage.Images = []string{path}
			err = withImage.checkModel(s.set.Model)
		}
	} else {
		_, _, err = o.loadAttachments(ctx, []string{path}, nil)
	}
	if err != nil {
		s.report(err)
		return
	}
	*list = append(*list, path)
	s.note("%s attached to the next question (%d in all)", cli.ShownLine(path), len(f.Files)+len(f.Images))
}
