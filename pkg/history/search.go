package history

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/moonchat/moonchat/pkg/render"
)

// Span is a byte range [Start, End) in a snippet.
type Span struct {
	Start, End int
}

// SearchHit is one message, or one conversation title, that matched.
type SearchHit struct {
	Conversation Conversation
	MessageID    int64  // 0 when the conversation's title matched
	Role         string // role of the matching message; "" for a title
	Snippet      string // one line of text around the first match
	Matches      []Span // where the search terms occur in Snippet, in order
}

// trigramLen is the shortest term the trigram index can answer; shorter
// terms (common in Chinese, where most words are two characters) are
// matched with LIKE instead.
const trigramLen = 3

const (
	snippetBefore = 30  // runes of context kept before the first match
	snippetRunes  = 120 // runes in a snippet, context included
)

// Search finds messages and conversation titles containing every
// whitespace-separated term of text, as a case-insensitive substring, in any
// script. Hits come newest first; limit <= 0 means no limit.
//
// It first brings the full-text indexes up to date with what was saved since
// the last search (see index.go), which is the slow part of the first search
// after many long answers.
func (s *Store) Search(ctx context.Context, text string, limit int) ([]SearchHit, error) {
	terms := strings.Fields(text)
	if len(terms) == 0 {
		return nil, errors.New("search text is empty")
	}
	if err := s.indexPending(ctx); indexErrorMatters(err) {
		return nil, err
	}
	return s.search(ctx, terms, limit)
}

// search is Search without indexing first.
func (s *Store) search(ctx context.Context, terms []string, limit int) ([]SearchHit, error) {
	// One connection, for the temporary indexes, and one read transaction, so
	// the rows queued and the rows indexed come from the same snapshot.
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return nil, s.wrap(err)
	}
	defer conn.Close()
	tx, err := conn.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, s.wrap(err)
	}
	defer tx.Rollback()
	q := termQuery(terms)
	var pending pendingIndex
	if q.match != "" {
		if pending, err = indexQueued(ctx, tx); err != nil {
			return nil, s.wrap(err)
		}
	}
	sqlLimit := limit
	if sqlLimit <= 0 {
		sqlLimit = -1
	}

	// A row is either indexed or queued, never both: the two queries find
	// disjoint sets, each newest (highest id) first, merged here.
	fts := []string{""}
	if q.match != "" {
		fts = []string{"messages_fts"}
		if pending.messages {
			fts = append(fts, pendingMessagesFTS)
		}
	}
	var msgHits []datedHit
	for _, index := range fts {
		found, err := s.searchMessages(ctx, tx, q, index, sqlLimit)
		if err != nil {
			return nil, err
		}
		msgHits = append(msgHits, found...)
	}
	slices.SortFunc(msgHits, func(a, b datedHit) int { return cmp.Compare(b.MessageID, a.MessageID) })
	if limit > 0 && len(msgHits) > limit {
		msgHits = msgHits[:limit]
	}
	hits := msgHits

	where, args := q.likes("c", "title")
	if q.match != "" {
		in := `SELECT rowid FROM conversations_fts WHERE conversations_fts MATCH ?`
		args = append(args, q.match)
		if pending.titles {
			in += ` UNION ALL SELECT rowid FROM ` + pendingTitlesFTS + ` WHERE ` + pendingTitlesFTS + ` MATCH ?`
			args = append(args, q.match)
		}
		where = append(where, `c.seq IN (`+in+`)`)
	}
	titled, err := s.conversations(ctx, tx, `SELECT `+conversationCols+` FROM conversations c
		WHERE `+strings.Join(where, " AND ")+newestFirst+` LIMIT ?`, append(args, sqlLimit)...)
	if err != nil {
		return nil, err
	}
	for _, c := range titled {
		h := datedHit{SearchHit: SearchHit{Conversation: c}, at: c.UpdatedAt}
		h.Snippet, h.Matches = snippet(c.Title, q.terms)
		hits = append(hits, h)
	}

	slices.SortStableFunc(hits, func(a, b datedHit) int { return b.at.Compare(a.at) })
	if limit > 0 && len(hits) > limit {
		hits = hits[:limit]
	}
	out := make([]SearchHit, len(hits))
	for i, h := range hits {
		out[i] = h.SearchHit
	}
	return out, nil
}

// datedHit is a hit and the time it is sorted by: when the message was saved,
// or when the conversation was last active.
type datedHit struct {
	SearchHit
	at time.Time
}

// searchMessages finds the messages matching q, through the trigram index
// named index ("" when q has no term long enough for one), newest first.
//
// The index, when used, drives the join (CROSS JOIN fixes the order), and
// the ORDER BY names the index's rowid: that lets FTS5 walk its matches
// newest first and stop at the limit, where ordering by the table's column
// would collect and sort every match of a common term.
func (s *Store) searchMessages(ctx context.Context, tx *sql.Tx, q searchTerms, index string, limit int) ([]datedHit, error) {
	where, args := q.likes("m", "content")
	from, rowid := `messages m`, `m.id`
	if index != "" {
		from = index + ` CROSS JOIN messages m ON m.id = ` + index + `.rowid`
		rowid = index + `.rowid`
		where = append(where, index+` MATCH ?`)
		args = append(args, q.match)
	}
	rows, err := tx.QueryContext(ctx, `SELECT m.id, m.role, m.content, m.created_at, `+conversationCols+`
		FROM `+from+` JOIN conversations c ON c.id = m.conversation_id
		WHERE `+strings.Join(where, " AND ")+` ORDER BY `+rowid+` DESC LIMIT ?`, append(args, limit)...)
	if err != nil {
		return nil, s.wrap(err)
	}
	defer rows.Close()
	var hits []datedHit
	for rows.Next() {
		var h datedHit
		var content, created string
		var c Conversation
		var cCreated, cUpdated string
		if err := rows.Scan(&h.MessageID, &h.Role, &content, &created,
			&c.ID, &c.Title, &c.Model, &c.System, &cCreated, &cUpdated, &c.MessageCount); err != nil {
			return nil, s.wrap(err)
		}
		if h.at, err = parseTime(created); err != nil {
			return nil, err
		}
		if c.CreatedAt, err = parseTime(cCreated); err != nil {
			return nil, err
		}
		if c.UpdatedAt, err = parseTime(cUpdated); err != nil {
			return nil, err
		}
		h.Conversation = c
		h.Snippet, h.Matches = snippet(content, q.terms)
		hits = append(hits, h)
	}
	return hits, s.wrap(rows.Err())
}

// searchTerms splits the terms of a search: those of three or more runes go
// to the trigram index as one FTS5 query (match, "" when there are none);
// shorter ones, which the index cannot answer, become LIKE conditions.
type searchTerms struct {
	terms []string
	match string
	short []string // LIKE patterns
}

func termQuery(terms []string) searchTerms {
	q := searchTerms{terms: terms}
	var phrases []string
	for _, t := range terms {
		if utf8.RuneCountInString(t) >= trigramLen {
			// A quoted FTS5 string is a phrase: to the trigram tokenizer, a
			// substring. Quoting also neutralises AND/OR/NEAR/* in the text.
			phrases = append(phrases, `"`+strings.ReplaceAll(t, `"`, `""`)+`"`)
			continue
		}
		q.short = append(q.short, "%"+escapeLike(t)+"%")
	}
	q.match = strings.Join(phrases, " AND ")
	return q
}

// likes returns the LIKE conditions of the short terms on column col of the
// table aliased alias, and their arguments.
func (q searchTerms) likes(alias, col string) (conds []string, args []any) {
	for _, pattern := range q.short {
		conds = append(conds, alias+`.`+col+` LIKE ? ESCAPE '\'`)
		args = append(args, pattern)
	}
	return conds, args
}

func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// snippet cuts one line of text around the first occurrence of any term and
// marks every occurrence in it.
func snippet(text string, terms []string) (string, []Span) {
	// Sequences go before the window is cut: a window starting inside one
	// would leave its body as text (oneLine removes only whole sequences), and
	// a term matching inside a body must not choose the window.
	text = render.RemoveEscapes(text)
	first := len(text)
	for _, t := range terms {
		if m := findFirstFold(text, t); m >= 0 && m < first {
			first = m
		}
	}
	if first == len(text) {
		first = 0
	}
	start := first
	for n := 0; n < snippetBefore && start > 0; n++ {
		_, size := utf8.DecodeLastRuneInString(text[:start])
		start -= size
	}
	end := start
	for n := 0; n < snippetRunes && end < len(text); n++ {
		_, size := utf8.DecodeRuneInString(text[end:])
		end += size
	}
	out := oneLine(text[start:end])
	if start > 0 && out != "" {
		out = "…" + out
	}
	if end < len(text) && out != "" {
		out += "…"
	}

	var spans []Span
	for _, t := range terms {
		spans = append(spans, findFold(out, t)...)
	}
	slices.SortFunc(spans, func(a, b Span) int {
		return cmp.Or(cmp.Compare(a.Start, b.Start), cmp.Compare(a.End, b.End))
	})
	// Terms can overlap ("abc" and "bcd" in "abcd"); merge them so a
	// highlighter can walk the spans in one pass.
	merged := spans[:0]
	for _, sp := range spans {
		if n := len(merged); n > 0 && sp.Start <= merged[n-1].End {
			merged[n-1].End = max(merged[n-1].End, sp.End)
			continue
		}
		merged = append(merged, sp)
	}
	return out, merged
}

func findFirstFold(s, sub string) int {
	for i := 0; i < len(s); {
		if prefixFold(s[i:], sub) > 0 {
			return i
		}
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
	}
	return -1
}
