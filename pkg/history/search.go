package history

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
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
func (s *Store) Search(ctx context.Context, text string, limit int) ([]SearchHit, error) {
	terms := strings.Fields(text)
	if len(terms) == 0 {
		return nil, errors.New("search text is empty")
	}
	sqlLimit := limit
	if sqlLimit <= 0 {
		sqlLimit = -1
	}

	type hit struct {
		SearchHit
		at time.Time
	}
	var hits []hit

	from, where, rowid, args := searchFilter("messages", "m", "id", "content", terms)
	rows, err := s.db.QueryContext(ctx, `SELECT m.id, m.role, m.content, m.created_at, `+conversationCols+`
		FROM `+from+` JOIN conversations c ON c.id = m.conversation_id
		WHERE `+where+` ORDER BY `+rowid+` DESC LIMIT ?`, append(args, sqlLimit)...)
	if err != nil {
		return nil, s.wrap(err)
	}
	defer rows.Close()
	for rows.Next() {
		var h hit
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
		h.Snippet, h.Matches = snippet(content, terms)
		hits = append(hits, h)
	}
	if err := rows.Err(); err != nil {
		return nil, s.wrap(err)
	}
	rows.Close()

	from, where, _, args = searchFilter("conversations", "c", "seq", "title", terms)
	titled, err := s.conversations(ctx, `SELECT `+conversationCols+` FROM `+from+`
		WHERE `+where+newestFirst+` LIMIT ?`, append(args, sqlLimit)...)
	if err != nil {
		return nil, err
	}
	for _, c := range titled {
		h := hit{SearchHit: SearchHit{Conversation: c}, at: c.UpdatedAt}
		h.Snippet, h.Matches = snippet(c.Title, terms)
		hits = append(hits, h)
	}

	slices.SortStableFunc(hits, func(a, b hit) int { return b.at.Compare(a.at) })
	if limit > 0 && len(hits) > limit {
		hits = hits[:limit]
	}
	out := make([]SearchHit, len(hits))
	for i, h := range hits {
		out[i] = h.SearchHit
	}
	return out, nil
}

// searchFilter builds the FROM and WHERE clauses that find rows of table
// (aliased alias) whose column col holds every term. Terms of three or more
// runes go through the trigram index table_fts, whose rowid is the table's
// rowidCol; shorter ones, which the index cannot answer, through LIKE.
//
// The index, when used, drives the join (CROSS JOIN fixes the order), and
// rowid names the index's rowid: ordering by it lets FTS5 walk its matches
// newest first and stop at the limit, where ordering by the table's column
// would collect and sort every match of a common term.
func searchFilter(table, alias, rowidCol, col string, terms []string) (from, where, rowid string, args []any) {
	var conds, phrases []string
	for _, t := range terms {
		if utf8.RuneCountInString(t) >= trigramLen {
			// A quoted FTS5 string is a phrase: to the trigram tokenizer, a
			// substring. Quoting also neutralises AND/OR/NEAR/* in the text.
			phrases = append(phrases, `"`+strings.ReplaceAll(t, `"`, `""`)+`"`)
			continue
		}
		conds = append(conds, alias+`.`+col+` LIKE ? ESCAPE '\'`)
		args = append(args, "%"+escapeLike(t)+"%")
	}
	from, rowid = table+` `+alias, alias+`.`+rowidCol
	if len(phrases) > 0 {
		fts := table + `_fts`
		from = fts + ` CROSS JOIN ` + from + ` ON ` + rowid + ` = ` + fts + `.rowid`
		rowid = fts + `.rowid`
		conds = append(conds, fts+` MATCH ?`)
		args = append(args, strings.Join(phrases, " AND "))
	}
	return from, strings.Join(conds, " AND "), rowid, args
}

func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// snippet cuts one line of text around the first occurrence of any term and
// marks every occurrence in it.
func snippet(text string, terms []string) (string, []Span) {
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
