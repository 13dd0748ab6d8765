package config

import (
	"errors"
	"fmt"
	"math"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/moonchat/moonchat/pkg/suggest"

	"github.com/moonchat/moonchat/pkg/moonshot"
)

// Types a Key can have. "list" is a comma-separated list of words and "url" an absolute URL;
// the others are what their names say.
const (
	TypeString   = "string"
	TypeInt      = "int"
	TypeFloat    = "float"
	TypeBool     = "bool"
	TypeDuration = "duration"
	TypeEnum     = "enum"
	TypeList     = "list"
	TypeURL      = "url"
)

// Key describes one configuration setting. The table returned by Keys is the single source for
// help text, validation and shell completion.
type Key struct {
	Name        string
	Type        string // one of the Type* constants
	Default     string // "" means unset: the API's own default applies
	Description string
	Enum        []string // allowed values when Type is TypeEnum
	Env         []string // environment variables that set it; the first one set wins
	Secret      bool     // masked in listings, never printed in errors
	Validate    func(string) error
}

// The platform base URLs. Keys from one platform are rejected by the other.
const (
	GlobalAPIBase = moonshot.GlobalBaseURL
	ChinaAPIBase  = moonshot.ChinaBaseURL
)

// DefaultAutoModels is the `-m auto` list, cheapest first; `-m auto` takes the first model whose
// context window fits the request. Each entry is the cheapest current model for its window (per
// 1M tokens, input/output, third-party global prices of pkg/moonshot's table):
//   - kimi-k2.6 (262k, $0.95/$4), the default model;
//   - kimi-k3.1-pro (1M, $2/$10) beyond that: cheaper than kimi-k3 ($3/$15) with the same window.
//
// The moonshot-v1 models this list began with were retired on 2026-08-31.
const DefaultAutoModels = "kimi-k2.6,kimi-k3.1-pro"

var keyTable = []Key{
	{
		Name:        string(KeyAPIKey),
		Type:        TypeString,
		Description: "Moonshot API key (keys from platform.moonshot.ai and platform.moonshot.cn are not interchangeable)",
		Env:         []string{"MOONCHAT_API_KEY", "MOONSHOT_API_KEY"},
		Secret:      true,
		Validate:    validateAPIKey,
	},
	{
		Name:        string(KeyAPIBase),
		Type:        TypeURL,
		Description: "API base URL; when unset it follows region (" + GlobalAPIBase + " or " + ChinaAPIBase + ")",
		Env:         []string{"MOONCHAT_API_BASE", "MOONSHOT_API_BASE"},
		Validate:    validateHTTPURL,
	},
	{
		Name:        string(KeyRegion),
		Type:        TypeEnum,
		Default:     "global",
		Description: "Moonshot platform: global (api.moonshot.ai, USD) or cn (api.moonshot.cn, CNY)",
		Enum:        []string{"global", "cn"},
		Env:         []string{"MOONCHAT_REGION"},
	},
	{
		Name:        string(KeyModel),
		Type:        TypeString,
		Default:     "kimi-k2.6",
		Description: "model id to use, or \"auto\" to pick from auto_models by context length",
		Env:         []string{"MOONCHAT_MODEL"},
		Validate:    validateWord,
	},
	{
		Name:        string(KeyTemperature),
		Type:        TypeFloat,
		Description: "sampling temperature from 0 to 2 (adjusted to what the model accepts); unset uses the model's default",
		Env:         []string{"MOONCHAT_TEMPERATURE"},
		Validate:    validateTemperature,
	},
	{
		Name:        string(KeyMaxTokens),
		Type:        TypeInt,
		Description: "maximum tokens in the answer, reasoning included; unset uses the model's default",
		Env:         []string{"MOONCHAT_MAX_TOKENS"},
		Validate:    validatePositive,
	},
	{
		Name:        string(KeyFormat),
		Type:        TypeEnum,
		Default:     "auto",
		Description: "output format: auto (markdown on a terminal, text otherwise), markdown, text, json or jsonl",
		Enum:        []string{"auto", "markdown", "text", "json", "jsonl"},
		Env:         []string{"MOONCHAT_FORMAT"},
	},
	{
		Name:        string(KeyWrap),
		Type:        TypeInt,
		Default:     "0",
		Description: "wrap rendered output at this many columns; 0 uses the terminal width (at most 120)",
		Env:         []string{"MOONCHAT_WRAP"},
		Validate:    validateNonNegative,
	},
	{
		Name:        string(KeyStyle),
		Type:        TypeEnum,
		Default:     "auto",
		Description: "markdown style: auto (GLAMOUR_STYLE, else COLORFGBG, else dark), dark, light or notty",
		Enum:        []string{"auto", "dark", "light", "notty"},
		Env:         []string{"MOONCHAT_STYLE"},
	},
	{
		Name:        string(KeySaveHistory),
		Type:        TypeBool,
		Default:     "true",
		Description: "save conversations so they can be continued and searched",
		Env:         []string{"MOONCHAT_SAVE_HISTORY"},
	},
	{
		Name:        string(KeyTimeout),
		Type:        TypeDuration,
		Default:     "10m",
		Description: "limit for a whole request, streaming included (e.g. 90s, 10m); 0 means no limit",
		Env:         []string{"MOONCHAT_TIMEOUT"},
	},
	{
		Name:        string(KeyMaxRetries),
		Type:        TypeInt,
		Default:     "2",
		Description: "retries after a rate limit, overload, server or network error, before any answer arrived; none when the server asks to wait over 30 s",
		Env:         []string{"MOONCHAT_MAX_RETRIES"},
		Validate:    validateNonNegative,
	},
	{
		Name:        string(KeyProxy),
		Type:        TypeURL,
		Description: "proxy URL (http, https, socks5, socks5h or socks); overrides HTTPS_PROXY, HTTP_PROXY and ALL_PROXY",
		Env:         []string{"MOONCHAT_PROXY"},
		Validate:    validateProxyURL,
	},
	{
		Name:        string(KeyAutoModels),
		Type:        TypeList,
		Default:     DefaultAutoModels,
		Description: "comma-separated models for -m auto, cheapest first; the first whose context fits is used",
		Env:         []string{"MOONCHAT_AUTO_MODELS"},
		Validate:    validateModelList,
	},
	{
		Name:        string(KeyShowReasoning),
		Type:        TypeBool,
		Default:     "false",
		Description: "stream a thinking model's reasoning (dimmed, on stderr) instead of a one-line summary",
		Env:         []string{"MOONCHAT_SHOW_REASONING"},
	},
	{
		Name:        string(KeyMCPDefault),
		Type:        TypeList,
		Description: "MCP servers (names from mcp_servers in this file) whose tools every chat may use",
		Env:         []string{"MOONCHAT_MCP_DEFAULT"},
		Validate:    validateServerNames,
	},
	{
		Name:        string(KeyAllowTools),
		Type:        TypeList,
		Description: "MCP tools that run without asking: SERVER/TOOL, SERVER/* or TOOL",
		Env:         []string{"MOONCHAT_ALLOW_TOOLS"},
		Validate:    validateAllowTools,
	},
}

var keyIndex = func() map[string]int {
	m := make(map[string]int, len(keyTable))
	for i, k := range keyTable {
		m[k.Name] = i
	}
	return m
}()

// Keys returns every known key, in the order help and listings show them.
func Keys() []Key {
	out := make([]Key, len(keyTable))
	for i, k := range keyTable {
		out[i] = k.clone()
	}
	return out
}

// Lookup returns the key with this exact name.
func Lookup(name string) (Key, bool) {
	i, ok := keyIndex[name]
	if !ok {
		return Key{}, false
	}
	return keyTable[i].clone(), true
}

// clone copies the slices so callers cannot change the shared table.
func (k Key) clone() Key {
	k.Enum = append([]string(nil), k.Enum...)
	k.Env = append([]string(nil), k.Env...)
	return k
}

// ErrUnknownKey is wrapped by the errors for names that are not in the table.
var ErrUnknownKey = errors.New("unknown key")

func unknownKey(name string) error {
	if s := Suggest(name); s != "" {
		return fmt.Errorf("%w %q (did you mean %q?)", ErrUnknownKey, name, s)
	}
	return fmt.Errorf("%w %q", ErrUnknownKey, name)
}

// Suggest returns the known key closest to a misspelt name, or "" when none is close. Dashes and
// dots count as underscores, so "max-tokens" finds "max_tokens".
func Suggest(name string) string {
	n := strings.NewReplacer("-", "_", ".", "_").Replace(name)
	names := make([]string, len(keyTable))
	for i, k := range keyTable {
		names[i] = k.Name
	}
	return suggest.Closest(n, names)
}

// Values returns the complete set of values a key accepts, for shell completion, or nil when
// the set is open.
func (k Key) Values() []string {
	switch k.Type {
	case TypeEnum:
		return append([]string(nil), k.Enum...)
	case TypeBool:
		return []string{"true", "false"}
	}
	return nil
}

// Check reports whether value is acceptable for the key. An empty value means "none" and is
// acceptable only for string and URL keys.
func (k Key) Check(value string) error {
	_, err := k.canonical(value)
	return err
}

// canonical validates value and returns the form that is stored and shown: trimmed, lower-case
// enums, "true"/"false" for booleans, commas without spaces for lists. Error messages do not
// repeat the key name (callers add it) and never contain a secret.
func (k Key) canonical(value string) (string, error) {
	v := strings.TrimSpace(value)
	if v == "" && k.Type != TypeString && k.Type != TypeList && k.Type != TypeURL {
		return "", errors.New("empty value")
	}
	q := k.quote(v)
	switch k.Type {
	case TypeString:
	case TypeInt:
		n, err := strconv.Atoi(v)
		if err != nil {
			return "", fmt.Errorf("%s is not a whole number", q)
		}
		v = strconv.Itoa(n)
	case TypeFloat:
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return "", fmt.Errorf("%s is not a number", q)
		}
	case TypeBool:
		b, ok := parseBool(v)
		if !ok {
			return "", fmt.Errorf("%s is not true or false", q)
		}
		v = strconv.FormatBool(b)
	case TypeDuration:
		d, ok := parseDuration(v)
		if !ok {
			return "", fmt.Errorf("%s is not a duration (e.g. 90s, 10m, 1h)", q)
		}
		if d < 0 {
			return "", fmt.Errorf("%s must not be negative", q)
		}
	case TypeEnum:
		lv := strings.ToLower(v)
		found := false
		for _, e := range k.Enum {
			if e == lv {
				found = true
				break
			}
		}
		if !found {
			return "", fmt.Errorf("%s is not one of %s", q, strings.Join(k.Enum, ", "))
		}
		v = lv
	case TypeList:
		var items []string
		for item := range strings.SplitSeq(v, ",") {
			if item = strings.TrimSpace(item); item != "" {
				items = append(items, item)
			}
		}
		v = strings.Join(items, ",")
	case TypeURL:
		u, err := url.Parse(v)
		if v != "" && (err != nil || u.Scheme == "" || u.Host == "") {
			return "", fmt.Errorf("%s is not an absolute URL (e.g. http://host:port)", k.quote(moonshot.RedactURL(v)))
		}
	default:
		return "", fmt.Errorf("key has unknown type %q", k.Type)
	}
	if k.Validate != nil {
		if err := k.Validate(v); err != nil {
			return "", err
		}
	}
	return v, nil
}

// quote shows a value in an error message, unless the key is secret.
func (k Key) quote(v string) string {
	if k.Secret {
		return "the value"
	}
	return strconv.Quote(v)
}

func parseBool(s string) (bool, bool) {
	switch strings.ToLower(s) {
	case "true", "yes", "on", "1":
		return true, true
	case "false", "no", "off", "0":
		return false, true
	}
	return false, false
}

// parseDuration accepts Go durations ("90s", "1h30m") and a bare number of seconds ("90"),
// which is what people type into environment variables.
func parseDuration(s string) (time.Duration, bool) {
	if d, err := time.ParseDuration(s); err == nil {
		return d, true
	}
	if secs, err := strconv.ParseFloat(s, 64); err == nil && !math.IsNaN(secs) && !math.IsInf(secs, 0) &&
		math.Abs(secs) < float64(math.MaxInt64)/float64(time.Second) {
		return time.Duration(secs * float64(time.Second)), true
	}
	return 0, false
}

func validateAPIKey(v string) error {
	for _, r := range v {
		if unicode.IsSpace(r) || unicode.IsControl(r) {
			return errors.New("contains spaces or control characters (was it pasted with extra text?)")
		}
	}
	return nil
}

func validateWord(v string) error {
	if v == "" {
		return nil
	}
	if strings.IndexFunc(v, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0 {
		return fmt.Errorf("%q contains spaces", v)
	}
	return nil
}

func validateModelList(v string) error {
	if v == "" {
		return errors.New("needs at least one model id")
	}
	return eachItem(validateWord)(v)
}

// eachItem validates a list value (TypeList) with check, item by item; an empty item (a
// stray comma) is not checked.
func eachItem(check func(string) error) func(string) error {
	return func(v string) error {
		for item := range strings.SplitSeq(v, ",") {
			if item == "" {
				continue
			}
			if err := check(item); err != nil {
				return err
			}
		}
		return nil
	}
}

func validateTemperature(v string) error {
	f, _ := strconv.ParseFloat(v, 64)
	if f < 0 || f > 2 {
		return fmt.Errorf("%q is outside 0 to 2", v)
	}
	return nil
}

func validatePositive(v string) error {
	if n, _ := strconv.Atoi(v); n <= 0 {
		return fmt.Errorf("%q must be greater than 0", v)
	}
	return nil
}

func validateNonNegative(v string) error {
	if n, _ := strconv.Atoi(v); n < 0 {
		return fmt.Errorf("%q must not be negative", v)
	}
	return nil
}

func validateHTTPURL(v string) error {
	if v == "" {
		return nil
	}
	u, err := url.Parse(v)
	if err != nil {
		return errors.New("is not a URL")
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("%q must start with http:// or https://", moonshot.RedactURL(v))
	}
	return nil
}

func validateProxyURL(v string) error {
	if v == "" {
		return nil
	}
	u, err := url.Parse(v)
	if err != nil {
		return errors.New("is not a URL")
	}
	switch u.Scheme {
	case "http", "https", "socks5", "socks5h", "socks":
		return nil
	}
	return fmt.Errorf("%q has scheme %q; use http, https, socks5, socks5h or socks", moonshot.RedactURL(v), u.Scheme)
}

// Mask hides a secret for display: the well-known "sk-" prefix, an ellipsis, and at most the
// last 4 characters, only when the secret is long enough that 4 characters give nothing away.
func Mask(secret string) string {
	if secret == "" {
		return ""
	}
	prefix, rest := "", secret
	if strings.HasPrefix(secret, "sk-") {
		prefix, rest = "sk-", secret[3:]
	}
	if utf8.RuneCountInString(rest) < 16 {
		return prefix + "…"
	}
	// Cut on the original bytes rather than via []rune, which would turn invalid UTF-8 into
	// replacement characters.
	cut := len(rest)
	for range 4 {
		_, size := utf8.DecodeLastRuneInString(rest[:cut])
		cut -= size
	}
	return prefix + "…" + rest[cut:]
}

// display is how a value is shown in listings: secrets masked, URL passwords redacted.
func (k Key) display(v string) string {
	switch {
	case k.Secret:
		return Mask(v)
	case k.Type == TypeURL:
		return moonshot.RedactURL(v)
	}
	return v
}

// Find returns the key with this exact name, or an error wrapping ErrUnknownKey that suggests
// the closest known name.
func Find(name string) (Key, error) {
	if k, ok := Lookup(name); ok {
		return k, nil
	}
	return Key{}, unknownKey(name)
}
