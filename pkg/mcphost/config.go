package mcphost

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"sync"
)

// ServerConfig is one MCP server: a local program spoken to over stdio (Command, Args, Env) or
// a remote one over streamable HTTP (URL, Headers). Exactly one of Command and URL is set.
type ServerConfig struct {
	Command string            `json:"command,omitempty"`
	Args    []string          `json:"args,omitempty"`
	Env     map[string]string `json:"env,omitempty"` // added to moonchat's environment, minus its API keys
	URL     string            `json:"url,omitempty"`
	Headers map[string]string `json:"headers,omitempty"` // e.g. Authorization: values are secrets, never shown
}

// Transport names how the server is reached: "stdio" or "http".
func (c ServerConfig) Transport() string {
	if c.URL != "" {
		return "http"
	}
	return "stdio"
}

// Endpoint is a one-line description for listings: the command and its arguments, or the URL
// without its query and credentials. Env and header values never appear.
func (c ServerConfig) Endpoint() string {
	if c.URL != "" {
		u, err := url.Parse(c.URL)
		if err != nil {
			return "(invalid URL)"
		}
		u.User, u.RawQuery, u.Fragment = nil, "", ""
		return u.String()
	}
	return strings.Join(append([]string{c.Command}, c.Args...), " ")
}

// serverName is compiled on first use: the counted repetition makes a program of about 60 KB,
// built at every start of moonchat otherwise, though only runs with MCP servers need it.
var serverName = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`) })

// ValidName checks a server's name: it appears in approval prompts, log file names and
// allow_tools entries, so it is kept to letters, digits, '-', '_' and '.'.
func ValidName(name string) error {
	if !serverName().MatchString(name) {
		return fmt.Errorf("server name %q must be 1-64 letters, digits, '-', '_' or '.', starting with a letter or digit", name)
	}
	return nil
}

// Validate reports the first problem with the configuration, worded for a config file.
func (c ServerConfig) Validate() error {
	switch {
	case c.Command != "" && c.URL != "":
		return errors.New("set either command (a local server) or url (a remote one), not both")
	case c.Command == "" && c.URL == "":
		return errors.New("set command (a local server over stdio) or url (a streamable HTTP server)")
	case c.URL != "":
		if len(c.Args) > 0 || len(c.Env) > 0 {
			return errors.New("args and env apply to a command, not to a url")
		}
		u, err := url.Parse(c.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("url %q must be an absolute http:// or https:// URL", c.URL)
		}
		for k := range c.Headers {
			if k == "" || strings.ContainsAny(k, " :\r\n") {
				return fmt.Errorf("header name %q is not valid", k)
			}
		}
		for k, v := range c.Headers {
			if strings.ContainsAny(v, "\r\n") {
				return fmt.Errorf("the value of header %s contains a line break", k)
			}
		}
	default:
		if len(c.Headers) > 0 {
			return errors.New("headers apply to a url, not to a command")
		}
		if strings.TrimSpace(c.Command) != c.Command {
			return fmt.Errorf("command %q has surrounding spaces (put arguments in args)", c.Command)
		}
		for k := range c.Env {
			if k == "" || strings.ContainsAny(k, "=\x00") {
				return fmt.Errorf("environment variable name %q is not valid", k)
			}
		}
	}
	return nil
}
