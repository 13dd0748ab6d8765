// Package stageorder checks that the files of a package call one another in one direction: a
// package whose work runs in stages (flags, run, exchange, outputs) keeps one file per stage,
// listed top to bottom, and a file may call only the files below it. Then the path of one
// request reads top-down and no file is visited twice.
//
// Only the standard library is used: the package is type-checked with an importer that imports
// nothing, which is enough to resolve its own functions and methods (calls into other packages
// are not what the order is about).
package stageorder

import (
	"errors"
	"fmt"
	"go/ast"
	"go/build"
	"go/parser"
	"go/token"
	"go/types"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// Func is a function or method the package defines.
type Func struct {
	Name string // "readPrompt", or "(*Options).notice" for a method
	File string // base name of the file that defines it
}

// Edge is one use of a function or method of the package outside the file that defines it:
// a call, or a function value taken (a method value handed to another stage is a call later).
type Edge struct {
	Caller string // the top-level declaration the use is in
	Callee Func
	File   string // base name of the caller's file
	Pos    token.Position
}

// Graph is what Load found: the package's files and the uses between them.
type Graph struct {
	Files []string // the package's production files (build.Default's view), sorted
	Edges []Edge   // in source order, file by file
}

// Load parses and type-checks the non-test Go files of the package in dir.
func Load(dir string) (*Graph, error) {
	bp, err := build.Default.ImportDir(dir, 0)
	if err != nil {
		return nil, err
	}
	fset := token.NewFileSet()
	var files []*ast.File
	for _, name := range bp.GoFiles {
		f, err := parser.ParseFile(fset, filepath.Join(dir, name), nil, parser.SkipObjectResolution)
		if err != nil {
			return nil, err
		}
		files = append(files, f)
	}
	info := &types.Info{Uses: map[*ast.Ident]types.Object{}, Defs: map[*ast.Ident]types.Object{}}
	conf := types.Config{
		// No imports: their names resolve to nothing, quietly; the package's own still do.
		Importer: importNothing{},
		Error:    func(error) {},
	}
	pkg, _ := conf.Check(bp.ImportPath, fset, files, info)
	if pkg == nil {
		return nil, fmt.Errorf("%s: type-checking failed", dir)
	}

	g := &Graph{Files: append([]string(nil), bp.GoFiles...)}
	sort.Strings(g.Files)
	defined := map[types.Object]Func{}
	for _, f := range files {
		file := filepath.Base(fset.Position(f.Pos()).Filename)
		for _, d := range f.Decls {
			fd, ok := d.(*ast.FuncDecl)
			if !ok {
				continue
			}
			if obj := info.Defs[fd.Name]; obj != nil {
				defined[obj] = Func{Name: funcName(fd), File: file}
			}
		}
	}
	for _, f := range files {
		file := filepath.Base(fset.Position(f.Pos()).Filename)
		for _, d := range f.Decls {
			caller := declName(d)
			ast.Inspect(d, func(n ast.Node) bool {
				id, ok := n.(*ast.Ident)
				if !ok {
					return true
				}
				obj := info.Uses[id]
				if fn, ok := obj.(*types.Func); ok {
					obj = fn.Origin() // a method of a generic type, as declared
				}
				callee, ok := defined[obj]
				if ok && callee.File != file {
					g.Edges = append(g.Edges, Edge{Caller: caller, Callee: callee, File: file, Pos: fset.Position(id.Pos())})
				}
				return true
			})
		}
	}
	return g, nil
}

type importNothing struct{}

func (importNothing) Import(path string) (*types.Package, error) {
	return nil, errors.New("not imported")
}

func funcName(fd *ast.FuncDecl) string {
	if fd.Recv == nil || len(fd.Recv.List) == 0 {
		return fd.Name.Name
	}
	recv := fd.Recv.List[0].Type
	if idx, ok := recv.(*ast.IndexExpr); ok { // a generic type's method
		recv = idx.X
	}
	switch r := recv.(type) {
	case *ast.StarExpr:
		if id, ok := r.X.(*ast.Ident); ok {
			return "(*" + id.Name + ")." + fd.Name.Name
		}
	case *ast.Ident:
		return r.Name + "." + fd.Name.Name
	}
	return fd.Name.Name
}

func declName(d ast.Decl) string {
	switch d := d.(type) {
	case *ast.FuncDecl:
		return funcName(d)
	case *ast.GenDecl:
		var names []string
		for _, s := range d.Specs {
			switch s := s.(type) {
			case *ast.ValueSpec:
				for _, n := range s.Names {
					names = append(names, n.Name)
				}
			case *ast.TypeSpec:
				names = append(names, s.Name.Name)
			}
		}
		return strings.Join(names, ", ")
	}
	return "?"
}

// Violations lists what breaks the order: each production file of g appears exactly once in
// order (top to bottom, the leaves last), and a file uses only functions of files below it.
func (g *Graph) Violations(order []string) []string {
	var out []string
	rank := map[string]int{}
	for i, f := range order {
		if _, dup := rank[f]; dup {
			out = append(out, fmt.Sprintf("%s is listed twice in the stage order", f))
		}
		rank[f] = i
	}
	present := map[string]bool{}
	for _, f := range g.Files {
		present[f] = true
		if _, ok := rank[f]; !ok {
			out = append(out, fmt.Sprintf("%s is not in the stage order: list it under the stage it holds", f))
		}
	}
	for _, f := range order {
		if !present[f] {
			out = append(out, fmt.Sprintf("%s is in the stage order but not in the package", f))
		}
	}
	for _, e := range g.Edges {
		from, okFrom := rank[e.File]
		to, okTo := rank[e.Callee.File]
		if okFrom && okTo && to < from {
			out = append(out, fmt.Sprintf("%s:%d: %s calls %s, defined above it in %s: move one of them to the stage it belongs to",
				e.File, e.Pos.Line, e.Caller, e.Callee.Name, e.Callee.File))
		}
	}
	return out
}

// Check fails t with every violation of the stage order by the package in dir (see Violations).
// stages and leaves together are the order, top to bottom: leaves are the files any stage may
// call (history, outputs, notices), which call nothing above them.
func Check(t testing.TB, dir string, stages, leaves []string) {
	t.Helper()
	g, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range g.Violations(append(append([]string(nil), stages...), leaves...)) {
		t.Error(v)
	}
}
