package main

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var mdName = regexp.MustCompile(`[A-Za-z0-9_./-]*[A-Za-z0-9_-]\.md\b`)

// Comments cite only documents a reader of the repository has: every name of a Markdown file in a
// Go comment is a file of the repository, from its root or from the comment's directory.
func TestCommentsCiteOnlyDocumentsInTheRepository(t *testing.T) {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	exists := func(p string) bool { _, err := os.Stat(p); return err == nil }
	checked := 0
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ParseComments|parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		for _, g := range f.Comments {
			for _, name := range mdName.FindAllString(g.Text(), -1) {
				checked++
				if !exists(filepath.Join(root, name)) && !exists(filepath.Join(filepath.Dir(path), name)) {
					rel, _ := filepath.Rel(root, path)
					t.Errorf("%s cites %s, which is not in the repository: write what the code relies on into docs/ or make the comment self-contained", rel, name)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked == 0 {
		t.Fatal("no citation found: the walk did not reach the sources")
	}
}
