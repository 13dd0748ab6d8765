package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"
)

// MaxFileBytes caps the config file: a few dozen settings take a few KB. Only a regular file
// is read (MOONCHAT_CONFIG=/dev/zero, a FIFO or a device would never end).
const MaxFileBytes = 1 << 20

// readFile reads and validates the config file. A missing file gives an empty document.
func readFile(path string) (*yaml.Node, map[string]fileValue, error) {
	data, err := readCapped(path)
	if errors.Is(err, fs.ErrNotExist) {
		return &yaml.Node{Kind: yaml.DocumentNode}, map[string]fileValue{}, nil
	}
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, nil, &FileError{Path: path, Msg: "cannot read: " + err.Error()}
	}
	return parse(path, data)
}

var (
	errNotRegular = errors.New("not a regular file; a config file is a YAML file")
	errTooLarge   = fmt.Errorf("larger than %d MB; a config file is a few KB of YAML", MaxFileBytes>>20)
)

// readCapped reads path if it is a regular file of at most MaxFileBytes. The type is checked
// before opening, since opening a FIFO waits for a writer, and again on the open file.
func readCapped(path string) ([]byte, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, errNotRegular
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if st, err := f.Stat(); err != nil || !st.Mode().IsRegular() {
		return nil, errNotRegular
	}
	data, err := io.ReadAll(io.LimitReader(f, MaxFileBytes+1))
	if err != nil {
		return nil, err
	}
	if len(data) > MaxFileBytes {
		return nil, errTooLarge
	}
	return data, nil
}

// yamlLine finds the line in go-yaml's syntax errors ("yaml: line 3: ...").
var yamlLine = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^yaml: line (\d+): (.*)$`) })

// parse checks the whole document: one mapping of known keys to valid scalar values.
func parse(path string, data []byte) (*yaml.Node, map[string]fileValue, error) {
	values := map[string]fileValue{}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			// Empty, or only comments: keep the comments for when a key is added.
			return &yaml.Node{Kind: yaml.DocumentNode, HeadComment: commentLines(data)}, values, nil
		}
		return nil, nil, syntaxError(path, err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		if err != nil {
			return nil, nil, syntaxError(path, err)
		}
		return nil, nil, &FileError{Path: path, Line: max(extra.Line, 1), Msg: "only one YAML document is allowed"}
	}
	if len(doc.Content) == 0 || isNull(doc.Content[0]) {
		return &doc, values, nil
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return nil, nil, &FileError{Path: path, Line: root.Line, Msg: "expected settings as \"key: value\" lines"}
	}
	for i := 0; i+1 < len(root.Content); i += 2 {
		kn, vn := root.Content[i], resolveAlias(root.Content[i+1])
		name := kn.Value
		if name == rolesKey && kn.Kind == yaml.ScalarNode {
			if _, err := parseRoles(path, vn); err != nil {
				return nil, nil, err
			}
			continue
		}
		if kn.Kind == yaml.ScalarNode && name == MCPServersKey {
			if err := parseMCPServers(path, kn, vn, values); err != nil {
				return nil, nil, err
			}
			continue
		}
		k, ok := Lookup(name)
		if kn.Kind != yaml.ScalarNode || !ok {
			return nil, nil, &FileError{Path: path, Line: kn.Line, Msg: unknownKey(name).Error()}
		}
		if prev, dup := values[name]; dup {
			return nil, nil, &FileError{Path: path, Line: kn.Line,
				Msg: fmt.Sprintf("%s is set twice (first on line %d)", name, prev.line)}
		}
		raw, err := scalarText(k, vn)
		if err != nil {
			return nil, nil, &FileError{Path: path, Line: vn.Line, Msg: name + ": " + err.Error()}
		}
		if strings.TrimSpace(raw) == "" {
			// "key:" or "key: ''" reads as "not set", like an empty environment variable.
			continue
		}
		v, err := k.canonical(raw)
		if err != nil {
			return nil, nil, &FileError{Path: path, Line: vn.Line, Msg: name + ": " + err.Error()}
		}
		values[name] = fileValue{value: v, line: kn.Line}
	}
	return &doc, values, nil
}

func syntaxError(path string, err error) *FileError {
	msg := err.Error()
	if m := yamlLine().FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		return &FileError{Path: path, Line: line, Msg: m[2]}
	}
	// go-yaml leaves out the line when it is the first one (its marks count from 0 and it
	// skips 0), so a message without a line is about line 1.
	return &FileError{Path: path, Line: 1, Msg: strings.TrimPrefix(msg, "yaml: ")}
}

// commentLines keeps the comments of a document that has nothing else, with one blank line
// where there were blank lines between them (the template's key sections).
func commentLines(data []byte) string {
	var lines []string
	blank := false
	for line := range strings.SplitSeq(string(data), "\n") {
		line = strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(line, "#"):
			if blank && len(lines) > 0 {
				lines = append(lines, "")
			}
			lines = append(lines, line)
			blank = false
		case line == "":
			blank = true
		}
	}
	return strings.Join(lines, "\n")
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

func resolveAlias(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

// scalarText returns a value node's text; a list key also accepts a YAML sequence.
func scalarText(k Key, n *yaml.Node) (string, error) {
	switch {
	case isNull(n):
		return "", nil
	case n.Kind == yaml.ScalarNode:
		return n.Value, nil
	case n.Kind == yaml.SequenceNode && k.Type == TypeList:
		items := make([]string, 0, len(n.Content))
		for _, item := range n.Content {
			item = resolveAlias(item)
			if item.Kind != yaml.ScalarNode {
				return "", errors.New("expected a list of model ids")
			}
			items = append(items, item.Value)
		}
		return strings.Join(items, ","), nil
	}
	return "", errors.New("expected a single value")
}

// mapping edits the top-level mapping of a parsed document in place, so that comments and the
// order of the other keys survive.
type mapping struct{ node *yaml.Node }

func newMapping(doc *yaml.Node) *mapping {
	if len(doc.Content) == 0 || isNull(doc.Content[0]) {
		m := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
		if len(doc.Content) == 0 {
			doc.Content = []*yaml.Node{m}
		} else {
			// Keep the comments of a document that was only comments and "~".
			old := doc.Content[0]
			m.HeadComment, m.LineComment, m.FootComment = old.HeadComment, old.LineComment, old.FootComment
			doc.Content[0] = m
		}
	}
	return &mapping{node: doc.Content[0]}
}

func (m *mapping) set(k Key, value string) bool {
	nv := &yaml.Node{Kind: yaml.ScalarNode, Value: value}
	switch k.Type {
	case TypeInt, TypeFloat, TypeBool:
		// No tag: the plain scalar reads back as the right type, and a float such as 1 is
		// written as "1", not "!!float 1".
	default:
		// A string tag makes the encoder quote values such as "true" or "123".
		nv.Tag = "!!str"
	}
	c := m.node.Content
	for i := 0; i+1 < len(c); i += 2 {
		if c[i].Value != k.Name {
			continue
		}
		old := c[i+1]
		if old.Kind == yaml.ScalarNode && old.Value == value {
			return false
		}
		nv.HeadComment, nv.LineComment, nv.FootComment = old.HeadComment, old.LineComment, old.FootComment
		if nv.Tag == "!!str" && old.Kind == yaml.ScalarNode && old.Style&(yaml.SingleQuotedStyle|yaml.DoubleQuotedStyle) != 0 {
			nv.Style = old.Style
		}
		c[i+1] = nv
		return true
	}
	m.node.Content = append(c, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: k.Name}, nv)
	return true
}

func (m *mapping) remove(name string) bool {
	c := m.node.Content
	for i := 0; i+1 < len(c); i += 2 {
		if c[i].Value == name {
			m.node.Content = append(c[:i:i], c[i+2:]...)
			return true
		}
	}
	return false
}

func encode(doc *yaml.Node) ([]byte, error) {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return nil, fmt.Errorf("encoding config: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("encoding config: %w", err)
	}
	return buf.Bytes(), nil
}

// writeAtomic replaces path with data so that a reader (or a crash) sees the old file or the new
// one, never a mix: a temp file in the same directory, fsync, rename. The file holds the API key,
// so it is created 0600 and a directory we create is 0700.
func writeAtomic(path string, data []byte) (err error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("creating config directory: %w", err)
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("writing config: %w", err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			_ = f.Close()
			_ = os.Remove(tmp)
		}
	}()
	if err := f.Chmod(0o600); err != nil {
		return fmt.Errorf("writing config: %w", err)
	}
	if _, err := f.Write(data); err != nil {
		return fmt.Errorf("writing config: %w", err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("writing config: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("writing config: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("writing config: %w", err)
	}
	// Make the rename itself durable. Not every platform can open a directory for syncing, and
	// the file is already complete on disk, so a failure here is not worth reporting.
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
	return nil
}
