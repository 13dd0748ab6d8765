package chat

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/moonchat/moonchat/cmd/cli"
	"github.com/moonchat/moonchat/pkg/config"
	"github.com/moonchat/moonchat/pkg/history"
)

// candidate is one completion the session offers for the word under the cursor.
type candidate struct {
	value string // replaces the word
	desc  string // shown next to it in the menu
	group string // the menu's heading for candidates of one kind
	dir   bool   // a directory: no space after it, the path goes on
}

// completer is the session's Tab: an editor that can complete takes it (completingEditor).
type completer func(before string) []candidate

// completingEditor is an editor with a Tab menu; the terminal editor is one.
type completingEditor interface {
	setCompleter(completer)
}

const (
	// completeRecent is how many recent conversations /resume offers.
	completeRecent = 50
	// completeEntries bounds a directory read for /file and /image: a Tab in a huge directory
	// must not stall the prompt.
	completeEntries = 2000
	// completeTimeout bounds the history query behind a Tab.
	completeTimeout = 2 * time.Second
)

// complete returns the candidates for the last word of before (the line up to the cursor):
// a command name after "/", and after a command, what that command takes.
func (s *session) complete(before string) []candidate {
	if !strings.HasPrefix(before, "/") || strings.HasPrefix(before, "//") || strings.Contains(before, "\n") {
		return nil
	}
	name, rest, hasArg := strings.Cut(before[1:], " ")
	if !hasArg {
		var out []candidate
		for _, c := range sessionCommands {
			if strings.HasPrefix(c.name, strings.ToLower(name)) {
				out = append(out, candidate{value: "/" + c.name, desc: c.summary, group: "commands"})
			}
		}
		return out
	}
	word := rest[strings.LastIndexAny(rest, " \t")+1:]
	var all []candidate
	switch strings.ToLower(name) {
	case "model":
		for _, m := range cli.ModelChoices(s.opts.Config.Value(config.KeyModel).Raw) {
			all = append(all, candidate{value: m.ID, desc: m.Description, group: "models"})
		}
	case "resume":
		all = s.recentCandidates()
	case "role":
		all = roleChoices(s.opts.Config)
	case "file":
		return pathCandidates(word, nil)
	case "image":
		return pathCandidates(word, imageExts)
	case "copy":
		all = []candidate{{value: "code", desc: "the last code block of the answer (code N: the N-th)", group: "what"}}
	case "edit":
		all = []candidate{{value: "last", desc: "edit the last question and ask it again", group: "what"}}
	}
	var out []candidate
	for _, c := range all {
		if strings.HasPrefix(c.value, strings.ToLower(word)) || strings.HasPrefix(c.value, word) {
			out = append(out, c)
		}
	}
	return out
}

// recentCandidates are the recently updated conversations, newest first, with their titles.
func (s *session) recentCandidates() []candidate {
	if s.opts.Factory.History == nil {
		return nil
	}
	store, err := s.opts.Factory.History()
	if err != nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), completeTimeout)
	defer cancel()
	recent, err := store.RecentIDs(ctx, completeRecent)
	if err != nil {
		return nil
	}
	out := make([]candidate, 0, len(recent))
	for _, c := range recent {
		out = append(out, candidate{value: c.ID, desc: cli.ShownLine(history.TitleFromPrompt(c.Title)), group: "conversations"})
	}
	return out
}

// imageExts are the image types -i takes; /image offers only them (and directories).
var imageExts = []string{".png", ".jpg", ".jpeg", ".webp", ".gif"}

// pathCandidates completes a file path: the entries of word's directory that start with its
// last element; hidden ones only when that element starts with a dot. A leading ~/ stands for
// the home directory and stays in the line.
func pathCandidates(word string, exts []string) []candidate {
	dir, base := filepath.Split(word)
	read := expandHome(dir)
	if read == "" {
		read = "."
	}
	f, err := os.Open(read)
	if err != nil {
		return nil
	}
	defer f.Close()
	entries, _ := f.ReadDir(completeEntries)
	var out []candidate
	for _, e := range entries {
		name := e.Name()
		if !strings.HasPrefix(name, base) || (strings.HasPrefix(name, ".") && !strings.HasPrefix(base, ".")) {
			continue
		}
		isDir := e.IsDir()
		if e.Type()&os.ModeSymlink != 0 {
			if st, err := os.Stat(filepath.Join(read, name)); err == nil {
				isDir = st.IsDir()
			}
		}
		if isDir {
			out = append(out, candidate{value: dir + name + string(filepath.Separator), group: "directories", dir: true})
			continue
		}
		if exts != nil && !slices.Contains(exts, strings.ToLower(filepath.Ext(name))) {
			continue
		}
		out = append(out, candidate{value: dir + name, group: "files"})
	}
	slices.SortFunc(out, func(a, b candidate) int { return strings.Compare(a.value, b.value) })
	return out
}
