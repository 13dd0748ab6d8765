// Package config resolves moonchat's settings from flags, the environment, the config file and
// built-in defaults, in that order of precedence, and edits the config file.
//
// The file is YAML at $XDG_CONFIG_HOME/moonchat/config.yaml, falling back to the platform's
// config directory (os.UserConfigDir). MOONCHAT_CONFIG, when set, names the file instead.
// A missing file means defaults. Reading never rewrites the file; writes are atomic, mode 0600,
// and keep the comments and order of the other keys.
//
// Every key can be set from the environment as MOONCHAT_<NAME IN UPPER CASE> (MOONCHAT_MODEL,
// MOONCHAT_MAX_TOKENS, ...); api_key and api_base also honour MOONSHOT_API_KEY and
// MOONSHOT_API_BASE, after the MOONCHAT_ names. An empty variable counts as unset.
//
// The table returned by Keys drives help, validation and completion. Values are validated when
// they enter a Config (file, environment, SetFlag), so the typed accessors on Value cannot fail
// for a key of the matching type.
//
// A Config is safe for concurrent reads once the command layer has finished calling SetFlag.
package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Origin says where a value came from.
type Origin string

const (
	OriginDefault Origin = "default"
	OriginFile    Origin = "file"
	OriginEnv     Origin = "env"
	OriginFlag    Origin = "flag"
)

// Config holds the settings from every source. Use Load to make one.
type Config struct {
	path    string // "" when no config location could be determined
	pathErr error  // why path is "", reported by writes
	file    map[string]fileValue
	env     map[string]envValue
	flags   map[string]string
	roles   map[string]Role // roles.go
}

type fileValue struct {
	value string
	line  int
}

type envValue struct {
	value string
	name  string // the variable it came from
}

// Value is a resolved setting.
type Value struct {
	Key    Key
	Raw    string // the value; "" when unset. Masked in List unless revealed.
	Origin Origin
	Source string // "path:line" for the file, the variable name for the environment, else ""
}

// FileError is a problem with the config file. It prints as "path:line: problem", or "path:
// problem" when no line applies (an unreadable file).
type FileError struct {
	Path string
	Line int
	Msg  string
}

func (e *FileError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.Path, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.Path, e.Msg)
}

// ValueError is an invalid value from the environment, a flag or Set.
type ValueError struct {
	Key    string
	Source string // the environment variable, or "" for a flag or Set
	Msg    string
}

func (e *ValueError) Error() string {
	if e.Source != "" {
		return fmt.Sprintf("%s: %s (from $%s)", e.Key, e.Msg, e.Source)
	}
	return fmt.Sprintf("%s: %s", e.Key, e.Msg)
}

// Path returns the config file's location: $MOONCHAT_CONFIG, else
// $XDG_CONFIG_HOME/moonchat/config.yaml, else moonchat/config.yaml in os.UserConfigDir().
func Path() (string, error) {
	if p := os.Getenv("MOONCHAT_CONFIG"); p != "" {
		return p, nil
	}
	dir := os.Getenv("XDG_CONFIG_HOME")
	if dir == "" || !filepath.IsAbs(dir) {
		d, err := os.UserConfigDir()
		if err != nil {
			return "", fmt.Errorf("cannot locate the config directory (set XDG_CONFIG_HOME or MOONCHAT_CONFIG): %w", err)
		}
		dir = d
	}
	return filepath.Join(dir, "moonchat", "config.yaml"), nil
}

// Load reads the config file at Path (a missing file is not an error) and the environment.
// An invalid file gives a *FileError, an invalid environment variable a *ValueError.
// When no config location can be found (no home directory, as in some containers) Load still
// succeeds with the environment and defaults; only writing fails.
func Load() (*Config, error) {
	path, err := Path()
	if err != nil {
		c := &Config{pathErr: err, flags: map[string]string{}}
		if err := c.readEnv(); err != nil {
			return nil, err
		}
		return c, nil
	}
	return LoadFile(path)
}

// LoadFile is Load with an explicit file, for a --config flag.
func LoadFile(path string) (*Config, error) {
	c := &Config{path: path, flags: map[string]string{}}
	doc, values, err := readFile(path)
	if err != nil {
		return nil, err
	}
	c.file, c.roles = values, rolesOf(path, doc)
	if err := c.readEnv(); err != nil {
		return nil, err
	}
	return c, nil
}

// readEnv takes a snapshot, so that every lookup during a run sees the same values.
func (c *Config) readEnv() error {
	c.env = map[string]envValue{}
	for _, k := range keyTable {
		for _, name := range k.Env {
			raw, ok := os.LookupEnv(name)
			if !ok || strings.TrimSpace(raw) == "" {
				continue
			}
			v, err := k.canonical(raw)
			if err != nil {
				return &ValueError{Key: k.Name, Source: name, Msg: err.Error()}
			}
			c.env[k.Name] = envValue{value: v, name: name}
			break
		}
	}
	return nil
}

// FilePath returns the file this Config reads and writes ("" when none could be located).
func (c *Config) FilePath() string { return c.path }

// SetFlag records a value given on the command line; it wins over every other source. An empty
// value is allowed for string and URL keys, to override a configured one with nothing
// (e.g. --proxy "").
func (c *Config) SetFlag(name, value string) error {
	_, v, err := canonicalValue(name, value)
	if err != nil {
		return err
	}
	c.flags[name] = v
	return nil
}

// Get returns a setting's value and where it came from. An unknown name panics, as in Value.
func (c *Config) Get(name Name) (string, Origin) {
	v := c.Value(name)
	return v.Raw, v.Origin
}

// Value resolves a setting: flag, then environment, then file, then default. Asking for a name
// that is not a key is a programming error and panics (see Name).
func (c *Config) Value(key Name) Value {
	k := mustLookup(key)
	name := k.Name
	if v, ok := c.flags[name]; ok {
		return Value{Key: k, Raw: v, Origin: OriginFlag}
	}
	if e, ok := c.env[name]; ok {
		return Value{Key: k, Raw: e.value, Origin: OriginEnv, Source: e.name}
	}
	if f, ok := c.file[name]; ok {
		return Value{Key: k, Raw: f.value, Origin: OriginFile, Source: c.path + ":" + strconv.Itoa(f.line)}
	}
	return Value{Key: k, Raw: k.Default, Origin: OriginDefault}
}

// InFile returns a key's value in the config file, whatever the environment or flags say.
func (c *Config) InFile(name string) (string, bool) {
	f, ok := c.file[name]
	return f.value, ok
}

// List returns every key's resolved value in table order. Secrets are masked and URL passwords
// redacted unless reveal is true.
func (c *Config) List(reveal bool) []Value {
	out := make([]Value, 0, len(keyTable))
	for _, k := range keyTable {
		v := c.Value(Name(k.Name))
		if !reveal {
			v.Raw = k.display(v.Raw)
		}
		out = append(out, v)
	}
	return out
}

// APIBase returns the base URL to call: api_base when set, else the URL of the region.
func (c *Config) APIBase() string {
	if v := c.Value(KeyAPIBase); v.IsSet() {
		return v.Raw
	}
	if c.Value(KeyRegion).Raw == "cn" {
		return ChinaAPIBase
	}
	return GlobalAPIBase
}

// IsSet reports whether the value is non-empty.
func (v Value) IsSet() bool { return v.Raw != "" }

// String shows the value for humans: secrets masked, URL passwords redacted.
func (v Value) String() string { return v.Key.display(v.Raw) }

// Int returns the value of an int key (0 when unset).
func (v Value) Int() int {
	n, _ := strconv.Atoi(v.Raw)
	return n
}

// Float returns the value of a float key (0 when unset; check IsSet for optional keys).
func (v Value) Float() float64 {
	f, _ := strconv.ParseFloat(v.Raw, 64)
	return f
}

// Bool returns the value of a bool key (false when unset).
func (v Value) Bool() bool {
	b, _ := parseBool(v.Raw)
	return b
}

// Duration returns the value of a duration key (0 when unset).
func (v Value) Duration() time.Duration {
	d, _ := parseDuration(v.Raw)
	return d
}

// List returns the items of a list key (nil when unset).
func (v Value) List() []string {
	if v.Raw == "" {
		return nil
	}
	return strings.Split(v.Raw, ",")
}

// Set validates value and writes it to the config file. It refuses, with the *FileError, to
// touch a file that is currently invalid.
func (c *Config) Set(name, value string) error {
	k, v, err := canonicalValue(name, value)
	if err != nil {
		return err
	}
	if v == "" {
		return &ValueError{Key: name, Msg: "empty value (use unset to remove a key)"}
	}
	return c.edit(func(m *mapping) bool { return m.set(k, v) })
}

// canonicalValue validates a value given for the key name, on the command line or for the
// file, and returns the key and the value's canonical form.
func canonicalValue(name, value string) (Key, string, error) {
	k, err := Find(name)
	if err != nil {
		return Key{}, "", err
	}
	v, err := k.canonical(value)
	if err != nil {
		return Key{}, "", &ValueError{Key: name, Msg: err.Error()}
	}
	return k, v, nil
}

// Unset removes a key from the config file. Removing a key that is not there changes nothing
// and creates no file.
func (c *Config) Unset(name string) error {
	if _, ok := Lookup(name); !ok {
		return unknownKey(name)
	}
	return c.edit(func(m *mapping) bool { return m.remove(name) })
}

// edit re-reads the file (it may have changed since Load), applies change and writes the
// result atomically if change reports a modification.
func (c *Config) edit(change func(*mapping) bool) error {
	if c.path == "" {
		if c.pathErr != nil {
			return c.pathErr
		}
		return errors.New("no config file location")
	}
	target := c.path
	// Write through a symlink (dotfile managers link the config) instead of replacing it.
	if resolved, err := filepath.EvalSymlinks(target); err == nil {
		target = resolved
	}
	doc, _, err := readFile(target)
	if err != nil {
		if fe, ok := err.(*FileError); ok {
			fe.Path = c.path
		}
		return err
	}
	m := newMapping(doc)
	if !change(m) {
		return nil
	}
	data, err := encode(doc)
	if err != nil {
		return err
	}
	if err := writeAtomic(target, data); err != nil {
		return err
	}
	// The new text is ours, so it parses; reading it back keeps the line numbers right.
	_, values, err := parse(c.path, data)
	if err != nil {
		return err
	}
	c.file = values
	return nil
}
