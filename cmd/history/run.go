package historycmd

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/moonchat/moonchat/cmd/cli"
	"github.com/moonchat/moonchat/pkg/history"
	"github.com/moonchat/moonchat/pkg/render"
)

// emptyHistory is what every subcommand says when there is nothing saved at all.
const emptyHistory = "no conversations yet"

func (opts *Options) store() (*history.Store, error) {
	if opts.History == nil {
		return nil, errors.New("the conversation history is not available")
	}
	return opts.History()
}

func (opts *Options) now() time.Time {
	if opts.Now == nil {
		return time.Now()
	}
	return opts.Now()
}

// resolve finds the conversation ref names, turning "not found" and "ambiguous" into usage
// errors (exit 2) whose hint says what to do next.
func resolve(ctx context.Context, store *history.Store, ref string) (history.Conversation, error) {
	c, err := store.Resolve(ctx, ref)
	if err == nil {
		return c, nil
	}
	var amb *history.AmbiguousError
	if errors.As(err, &amb) {
		return c, &cli.UsageError{Err: ambiguousError{amb}, Hint: candidatesHint(amb.Candidates)}
	}
	if !errors.Is(err, history.ErrNotFound) {
		return c, err
	}
	hint := "`moonchat history list` shows the ids; `moonchat history search TEXT` finds a conversation by what was said"
	if len(strings.TrimSpace(ref)) == 1 {
		hint = "give at least two characters of the id; " + hint
	}
	if first, lerr := store.List(ctx, history.ListOptions{Limit: 1}); lerr == nil && len(first) == 0 {
		hint = emptyHistory + ": chat saves every conversation unless --no-save is given or save_history is false"
	}
	return c, &cli.UsageError{Err: err, Hint: hint}
}

// ambiguousError keeps the message to one line; the candidates go in the hint, one a line.
type ambiguousError struct{ *history.AmbiguousError }

func (e ambiguousError) Error() string {
	return fmt.Sprintf("%q matches %d conversations", e.Ref, len(e.Candidates))
}

func (e ambiguousError) Unwrap() error { return e.AmbiguousError }

// maxCandidates bounds the hint of an ambiguous id: a two-character prefix in a large history
// matches hundreds.
const maxCandidates = 10

func candidatesHint(cs []history.Conversation) string {
	var b strings.Builder
	b.WriteString("use more of the id, or the exact title; it matches:")
	for i, c := range cs {
		if i == maxCandidates {
			fmt.Fprintf(&b, "\n    … and %d more", len(cs)-i)
			break
		}
		fmt.Fprintf(&b, "\n    %s  %s", c.ID, displayTitle(c.Title))
	}
	return b.String()
}

// displayTitle is a title as one clean line for a terminal (titles set through Update may
// hold anything, escape sequences included). TitleFromPrompt alone makes it safe, and so it
// reads as the piped listings and the export print it: sanitizing first would turn a BEL into
// a ␇ that TitleFromPrompt then keeps as text.
func displayTitle(title string) string {
	if t := history.TitleFromPrompt(title); t != "" {
		return t
	}
	return "(untitled)"
}

// conversationJSON is a conversation as the --json outputs print it.
type conversationJSON struct {
	ID           string    `json:"id"`
	Title        string    `json:"title"`
	Model        string    `json:"model"`
	System       string    `json:"system"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
	MessageCount int       `json:"message_count"`
}

func toJSON(c history.Conversation) conversationJSON {
	return conversationJSON{ID: c.ID, Title: c.Title, Model: c.Model, System: c.System,
		CreatedAt: c.CreatedAt.UTC(), UpdatedAt: c.UpdatedAt.UTC(), MessageCount: c.MessageCount}
}

func listRun(ctx context.Context, opts *Options) error {
	store, err := opts.store()
	if err != nil {
		return err
	}
	// One more than asked tells a terminal user that there are more.
	fetch := opts.Limit
	if fetch > 0 {
		fetch++
	}
	cs, err := store.List(ctx, history.ListOptions{Limit: fetch})
	if err != nil {
		return err
	}
	more := opts.Limit > 0 && len(cs) > opts.Limit
	if more {
		cs = cs[:opts.Limit]
	}
	out := bufio.NewWriter(opts.IO.Out)
	switch {
	case opts.JSON:
		items := make([]conversationJSON, len(cs))
		for i, c := range cs {
			items[i] = toJSON(c)
		}
		if err := cli.WriteJSON(out, items); err != nil {
			return err
		}
	case !opts.IO.IsStdoutTTY():
		for _, c := range cs {
			fmt.Fprintf(out, "%s\t%s\n", c.ID, history.TitleFromPrompt(c.Title))
		}
	case len(cs) == 0:
		fmt.Fprintln(opts.IO.ErrOut, emptyHistory)
	default:
		if err := writeListTable(out, opts, cs); err != nil {
			return err
		}
		if more {
			fmt.Fprintf(opts.IO.ErrOut, "showing the %d most recent; --limit 0 lists all\n", opts.Limit)
		}
	}
	return out.Flush()
}

func writeListTable(w io.Writer, opts *Options, cs []history.Conversation) error {
	now := opts.now()
	rows := [][]string{{"ID", "UPDATED", "MODEL", "MESSAGES", "TITLE"}}
	for _, c := range cs {
		rows = append(rows, []string{c.ID, when(now, c.UpdatedAt), c.Model, cli.FormatInt(c.MessageCount), displayTitle(c.Title)})
	}
	// Cut titles to what is left of the line, so each conversation stays on one row.
	used := 0
	for col := range 4 {
		width := 0
		for _, r := range rows {
			width = max(width, render.Width(r[col]))
		}
		used += width + 2
	}
	if room := opts.IO.Width() - used; room >= 10 {
		for _, r := range rows[1:] {
			r[4] = render.Truncate(r[4], room, "…")
		}
	}
	return cli.WriteTable(w, rows, 3)
}

// when shows a time relative to now when it is recent, and as a date otherwise, in now's time
// zone.
func when(now, t time.Time) string {
	d := now.Sub(t)
	plural := func(n int, unit string) string {
		if n == 1 {
			return "1 " + unit + " ago"
		}
		return fmt.Sprintf("%d %ss ago", n, unit)
	}
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return plural(int(d/time.Minute), "minute")
	case d < 24*time.Hour:
		return plural(int(d/time.Hour), "hour")
	case d < 7*24*time.Hour:
		return plural(int(d/(24*time.Hour)), "day")
	}
	return t.In(now.Location()).Format("2006-01-02 15:04")
}

// hitJSON is a search hit as --json prints it.
type hitJSON struct {
	ID        string    `json:"id"`
	Title     string    `json:"title"`
	UpdatedAt time.Time `json:"updated_at"`
	MessageID *int64    `json:"message_id"`
	Role      string    `json:"role"`
	Snippet   string    `json:"snippet"`
	Matches   [][2]int  `json:"matches"`
}

// slowIndexBytes is how much unindexed text makes a search slow enough (about
// half a second, see history.Store.Unindexed) to show a spinner while it indexes.
const slowIndexBytes = 8 << 20

func searchRun(ctx context.Context, opts *Options) error {
	store, err := opts.store()
	if err != nil {
		return err
	}
	// The first search after many long answers indexes them first, for seconds:
	// say why the terminal waits. Only a terminal shows the spinner, so only there
	// is the queue measured (a query of its own before every search).
	if opts.IO.ErrCanMoveCursor() {
		if n, err := store.Unindexed(ctx); err == nil && n >= slowIndexBytes {
			opts.IO.StartSpinner(fmt.Sprintf("indexing %s of messages saved since the last search…", cli.FormatSize(n)))
		}
	}
	hits, err := store.Search(ctx, opts.Query, opts.Limit)
	opts.IO.StopSpinner()
	if err != nil {
		return err
	}
	out := bufio.NewWriter(opts.IO.Out)
	switch {
	case opts.JSON:
		items := make([]hitJSON, len(hits))
		for i, h := range hits {
			items[i] = hitJSON{ID: h.Conversation.ID, Title: h.Conversation.Title,
				UpdatedAt: h.Conversation.UpdatedAt.UTC(), Role: h.Role, Snippet: h.Snippet, Matches: [][2]int{}}
			if h.MessageID != 0 {
				id := h.MessageID
				items[i].MessageID = &id
			}
			for _, m := range h.Matches {
				items[i].Matches = append(items[i].Matches, [2]int{m.Start, m.End})
			}
		}
		if err := cli.WriteJSON(out, items); err != nil {
			return err
		}
	case !opts.IO.IsStdoutTTY():
		for _, h := range hits {
			fmt.Fprintf(out, "%s\t%s\t%s\n", h.Conversation.ID, history.TitleFromPrompt(h.Conversation.Title), h.Snippet)
		}
	case len(hits) == 0:
		if first, err := store.List(ctx, history.ListOptions{Limit: 1}); err == nil && len(first) == 0 {
			fmt.Fprintln(opts.IO.ErrOut, emptyHistory)
		} else {
			fmt.Fprintf(opts.IO.ErrOut, "no matches for %q\n", opts.Query)
		}
	default:
		writeHits(out, opts, hits)
	}
	if err := out.Flush(); err != nil {
		return err
	}
	if len(hits) == 0 {
		// grep's convention: no match is exit 1, already said on a terminal.
		return &cli.ExitError{Code: cli.ExitFailure}
	}
	return nil
}

// writeHits shows the hits grouped under their conversation: a line with the id and title,
// then one indented line per matching message, the words highlighted.
func writeHits(w io.Writer, opts *Options, hits []history.SearchHit) {
	st := opts.IO.ColorScheme()
	prev := ""
	for _, h := range hits {
		if id := h.Conversation.ID; id != prev {
			if prev != "" {
				fmt.Fprintln(w)
			}
			prev = id
			fmt.Fprintf(w, "%s  %s  %s\n", st.Bold(id), displayTitle(h.Conversation.Title),
				st.Dim(when(opts.now(), h.Conversation.UpdatedAt)))
		}
		label := render.Sanitize(h.Role)
		if label == "" {
			label = "title"
		}
		fmt.Fprintf(w, "  %s %s\n", st.Dim(label+":"), highlight(st, h.Snippet, h.Matches))
	}
}

func rmRun(ctx context.Context, opts *Options) error {
	store, err := opts.store()
	if err != nil {
		return err
	}
	if len(opts.Refs) == 0 {
		cutoff := opts.now().Add(-opts.OlderThan)
		n, err := store.DeleteOlderThan(ctx, cutoff)
		if err != nil {
			return err
		}
		fmt.Fprintf(opts.IO.ErrOut, "removed %s last updated more than %s ago\n", count(n), formatAge(opts.OlderThan))
		return nil
	}
	// Look every id up first: a typo in the third id must not leave the first two deleted.
	var ids []string
	for _, ref := range opts.Refs {
		c, err := resolve(ctx, store, ref)
		if err != nil {
			return err
		}
		if !slices.Contains(ids, c.ID) {
			ids = append(ids, c.ID)
		}
	}
	n, err := store.Delete(ctx, ids...)
	if err != nil {
		return err
	}
	fmt.Fprintf(opts.IO.ErrOut, "removed %s: %s\n", count(n), strings.Join(ids, ", "))
	return nil
}

func count(n int) string {
	if n == 1 {
		return "1 conversation"
	}
	return cli.FormatInt(n) + " conversations"
}

// formatAge writes an age back in the unit it was most likely given in.
func formatAge(d time.Duration) string {
	const day = 24 * time.Hour
	if d >= day && d%day == 0 {
		return fmt.Sprintf("%dd", d/day)
	}
	// Duration.String spells out zero units: 1h30m0s, 12h0m0s.
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
