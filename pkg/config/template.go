package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// CheckFile validates the config file at path on its own, without the environment: what
// `config edit` reports after the editor closes. A missing file is valid.
func CheckFile(path string) error {
	_, _, err := readFile(path)
	return err
}

// Template is the text of a new config file: a header, then every key of the table commented
// out with its description, so that the file documents itself.
func Template() []byte {
	var b strings.Builder
	b.WriteString("# moonchat configuration. Flags win over environment variables, which win over this\n")
	b.WriteString("# file, which wins over the defaults. Uncomment a line to change a setting;\n")
	b.WriteString("# `moonchat config --help` describes every key.\n")
	for _, k := range keyTable {
		b.WriteString("\n# " + k.Description + "\n")
		if len(k.Env) > 0 {
			b.WriteString("# environment: " + strings.Join(k.Env, ", ") + "\n")
		}
		if k.Default != "" {
			b.WriteString("#" + k.Name + ": " + k.Default + "\n")
		} else {
			b.WriteString("#" + k.Name + ":\n")
		}
	}
	return []byte(b.String())
}

// CreateFile writes Template to path, mode 0600 in a 0700 directory, unless a file is already
// there: it never replaces one. created reports whether it wrote.
func CreateFile(path string) (created bool, err error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return false, fmt.Errorf("creating config directory: %w", err)
	}
	// O_EXCL rather than a check and a rename: a file that appears in between is kept.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("creating config: %w", err)
	}
	if _, err := f.Write(Template()); err != nil {
		_ = f.Close()
		_ = os.Remove(path)
		return false, fmt.Errorf("creating config: %w", err)
	}
	if err := f.Close(); err != nil {
		_ = os.Remove(path)
		return false, fmt.Errorf("creating config: %w", err)
	}
	return true, nil
}
