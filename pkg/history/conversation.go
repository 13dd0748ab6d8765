package history

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Conversation is one saved thread. MessageCount is filled by reads and
// ignored by writes.
type Conversation struct {
	ID           string
	Title        string
	Model        string
	System       string
	CreatedAt    time.Time
	UpdatedAt    time.Time
	MessageCount int
}

// Message is one turn of a conversation, as sent to or received from the API.
// ID and ConversationID are assigned by the store. Times come back in UTC.
type Message struct {
	ID               int64
	ConversationID   string
	Role             string
	Content          string
	ReasoningContent string
	Name             string
	ToolCallID       string
	ToolCalls        json.RawMessage // as sent/received, OpenAI shape; nil when none
	PromptTokens     int
	CompletionTokens int
	CachedTokens     int
	FinishReason     string
	Interrupted      bool // the user stopped the answer (Ctrl-C)
	Incomplete       bool // the stream was cut before it finished
	Replaced         bool // /edit last asked an edited question instead (MarkReplaced)
	Model            string
	CreatedAt        time.Time
}

// ListOptions pages through conversations. A Limit of zero or less means no
// limit.
type ListOptions struct {
	Limit  int
	Offset int
}

// ErrNotFound is matched (errors.Is) by every "no such conversation" error.
var ErrNotFound = errors.New("conversation not found")

type notFoundError struct{ msg string }

func (e *notFoundError) Error() string        { return e.msg }
func (e *notFoundError) Is(target error) bool { return target == ErrNotFound }

func notFound(ref string) error {
	return &notFoundError{msg: fmt.Sprintf("no conversation matches %q", ref)}
}

// updateConversation runs stmt, an UPDATE of conversation id ending in "WHERE id = ?", with
// args then id as its parameters; a conversation that does not exist is notFound(id), not an
// update of nothing.
func updateConversation(ctx context.Context, tx *sql.Tx, id, stmt string, args ...any) error {
	res, err := tx.ExecContext(ctx, stmt, append(args, id)...)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return notFound(id)
	}
	return nil
}

// AmbiguousError is returned by Resolve when a reference matches more than
// one conversation. Candidates are newest first.
type AmbiguousError struct {
	Ref        string
	Candidates []Conversation
}

// maxListed bounds how many candidates the error message names, so a
// two-character prefix in a large history still gives a one-line error.
const maxListed = 5

func (e *AmbiguousError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%q matches %d conversations:", e.Ref, len(e.Candidates))
	for i, c := range e.Candidates {
		if i == maxListed {
			fmt.Fprintf(&b, " and %d more", len(e.Candidates)-i)
			break
		}
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, " %s %q", c.ID, c.Title)
	}
	b.WriteString("; use more of the id")
	return b.String()
}

// minPrefix is the shortest id prefix Resolve accepts; one character would
// match a sixteenth of all conversations.
const minPrefix = 2

// idBytes random bytes make an 8-character hex id: short enough to type,
// and a collision (retried on insert) is rare below tens of thousands of
// conversations.
const idBytes = 4

// timeLayout is fixed-width so stored times sort as text; the literal Z
// means UTC.
const timeLayout = "2006-01-02T15:04:05.000000000Z"

func formatTime(t time.Time) string { return t.UTC().Format(timeLayout) }

func parseTime(s string) (time.Time, error) {
	t, err := time.Parse(timeLayout, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("bad time %q in history database: %w", s, err)
	}
	return t, nil
}

func newID() (string, error) {
	b := make([]byte, idBytes)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generate conversation id: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// validID accepts what Resolve can find by prefix: lowercase letters and
// digits.
func validID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, r := range id {
		if (r < '0' || r > '9') && (r < 'a' || r > 'z') {
			return false
		}
	}
	return true
}

func isUniqueViolation(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE
}

// Create saves a new conversation and returns it as stored. An empty ID gets
// a random one; zero times become now (UpdatedAt defaults to CreatedAt). The
// title may stay empty: the first user message appended sets it.
//
// msgs, when given, are appended in the same transaction: the conversation is
// saved with its messages or not at all, so a failed save (a full disk) never
// leaves an empty conversation behind for `chat -c` to continue.
func (s *Store) Create(ctx context.Context, c Conversation, msgs ...Message) (Conversation, error) {
	if err := checkMessages(msgs); err != nil {
		return Conversation{}, err
	}
	if c.CreatedAt.IsZero() {
		c.CreatedAt = time.Now()
	}
	if c.UpdatedAt.IsZero() {
		c.UpdatedAt = c.CreatedAt
	}
	c.CreatedAt, c.UpdatedAt = c.CreatedAt.UTC(), c.UpdatedAt.UTC()
	c.MessageCount = 0
	given := c.ID != ""
	if given && !validID(c.ID) {
		return Conversation{}, fmt.Errorf("invalid conversation id %q: use lowercase letters and digits", c.ID)
	}
	for attempt := 0; ; attempt++ {
		if !given {
			id, err := newID()
			if err != nil {
				return Conversation{}, err
			}
			c.ID = id
		}
		err := s.writeTx(ctx, func(tx *sql.Tx) error {
			_, err := tx.ExecContext(ctx, `INSERT INTO conversations (id, title, model, system, created_at, updated_at)
				VALUES (?, ?, ?, ?, ?, ?)`,
				c.ID, c.Title, c.Model, c.System, formatTime(c.CreatedAt), formatTime(c.UpdatedAt))
			if err != nil || len(msgs) == 0 {
				return err
			}
			return appendTx(ctx, tx, c.ID, msgs, c.UpdatedAt)
		})
		switch {
		case err == nil:
			if len(msgs) > 0 {
				return s.conversation(ctx, s.db, c.ID)
			}
			return c, nil
		case isUniqueViolation(err) && given:
			return Conversation{}, fmt.Errorf("conversation %s already exists", c.ID)
		case isUniqueViolation(err) && attempt < 5:
			continue
		default:
			return Conversation{}, err
		}
	}
}

const insertMessage = `INSERT INTO messages (conversation_id, role, content, reasoning_content, name,
	tool_call_id, tool_calls, prompt_tokens, completion_tokens, cached_tokens, finish_reason,
	interrupted, incomplete, model, created_at)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

// Append adds messages to the end of a conversation in one transaction and
// bumps its UpdatedAt. A conversation without a title takes one from the
// first user message (see TitleFromPrompt). Zero CreatedAt means now.
func (s *Store) Append(ctx context.Context, convID string, msgs ...Message) error {
	if err := checkMessages(msgs); err != nil {
		return err
	}
	now := time.Now().UTC()
	return s.writeTx(ctx, func(tx *sql.Tx) error {
		return appendTx(ctx, tx, convID, msgs, now)
	})
}

func checkMessages(msgs []Message) error {
	for i, m := range msgs {
		if m.Role == "" {
			return fmt.Errorf("message %d: empty role", i)
		}
		if len(m.ToolCalls) > 0 && !json.Valid(m.ToolCalls) {
			return fmt.Errorf("message %d: tool_calls is not valid JSON", i)
		}
	}
	return nil
}

// appendTx is Append within the transaction tx.
func appendTx(ctx context.Context, tx *sql.Tx, convID string, msgs []Message, now time.Time) error {
	var title string
	err := tx.QueryRowContext(ctx, `SELECT title FROM conversations WHERE id = ?`, convID).Scan(&title)
	if errors.Is(err, sql.ErrNoRows) {
		return notFound(convID)
	}
	if err != nil {
		return err
	}
	stmt, err := tx.PrepareContext(ctx, insertMessage)
	if err != nil {
		return err
	}
	defer stmt.Close()
	for _, m := range msgs {
		created := m.CreatedAt
		if created.IsZero() {
			created = now
		}
		var toolCalls any // nil stores NULL
		if len(m.ToolCalls) > 0 {
			toolCalls = string(m.ToolCalls)
		}
		_, err := stmt.ExecContext(ctx, convID, m.Role, m.Content, m.ReasoningContent, m.Name,
			m.ToolCallID, toolCalls, m.PromptTokens, m.CompletionTokens, m.CachedTokens,
			m.FinishReason, m.Interrupted, m.Incomplete, m.Model, formatTime(created))
		if err != nil {
			return err
		}
		if title == "" && m.Role == "user" {
			title = TitleFromPrompt(m.Content)
		}
	}
	_, err = tx.ExecContext(ctx, `UPDATE conversations SET updated_at = ?, title = ? WHERE id = ?`,
		formatTime(now), title, convID)
	return err
}

// Update stores c's Title, Model and System for the conversation c.ID (for
// example after /model or /system in a session), bumps UpdatedAt and returns
// the conversation as stored.
func (s *Store) Update(ctx context.Context, c Conversation) (Conversation, error) {
	err := s.writeTx(ctx, func(tx *sql.Tx) error {
		return updateConversation(ctx, tx, c.ID, `UPDATE conversations SET title = ?, model = ?, system = ?, updated_at = ?
			WHERE id = ?`, c.Title, c.Model, c.System, formatTime(time.Now()))
	})
	if err != nil {
		return Conversation{}, err
	}
	return s.conversation(ctx, s.db, c.ID)
}

// DeleteMessagesFrom removes the messages of a conversation whose ID is
// fromID or later, e.g. the answer that /retry replaces, and returns how many
// it removed.
func (s *Store) DeleteMessagesFrom(ctx context.Context, convID string, fromID int64) (int, error) {
	return s.changeMessagesFrom(ctx, convID, fromID, `DELETE FROM messages WHERE conversation_id = ? AND id >= ?`)
}

// changeMessagesFrom runs stmt (whose parameters are the conversation's id and fromID) on the
// messages of conversation convID from fromID on, in one transaction that also marks the
// conversation as updated, and returns how many messages it changed. A conversation that does
// not exist is an error, not zero changes.
func (s *Store) changeMessagesFrom(ctx context.Context, convID string, fromID int64, stmt string) (int, error) {
	var n int64
	err := s.writeTx(ctx, func(tx *sql.Tx) error {
		if err := updateConversation(ctx, tx, convID, `UPDATE conversations SET updated_at = ? WHERE id = ?`,
			formatTime(time.Now())); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, stmt, convID, fromID)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return int(n), err
}

// conversationCols selects what scanConversation reads, from an alias c.
const conversationCols = `c.id, c.title, c.model, c.system, c.created_at, c.updated_at,
	(SELECT count(*) FROM messages m WHERE m.conversation_id = c.id)`

// newestFirst orders by last activity; seq breaks ties between
// conversations touched in the same nanosecond.
const newestFirst = ` ORDER BY c.updated_at DESC, c.seq DESC`

type rowScanner interface{ Scan(dest ...any) error }

func scanConversation(r rowScanner) (Conversation, error) {
	var c Conversation
	var created, updated string
	if err := r.Scan(&c.ID, &c.Title, &c.Model, &c.System, &created, &updated, &c.MessageCount); err != nil {
		return Conversation{}, err
	}
	var err error
	if c.CreatedAt, err = parseTime(created); err != nil {
		return Conversation{}, err
	}
	if c.UpdatedAt, err = parseTime(updated); err != nil {
		return Conversation{}, err
	}
	return c, nil
}

type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func (s *Store) conversation(ctx context.Context, q querier, id string) (Conversation, error) {
	c, err := scanConversation(q.QueryRowContext(ctx,
		`SELECT `+conversationCols+` FROM conversations c WHERE c.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Conversation{}, notFound(id)
	}
	return c, s.wrap(err)
}

func (s *Store) conversations(ctx context.Context, q querier, query string, args ...any) ([]Conversation, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, s.wrap(err)
	}
	defer rows.Close()
	var out []Conversation
	for rows.Next() {
		c, err := scanConversation(rows)
		if err != nil {
			return nil, s.wrap(err)
		}
		out = append(out, c)
	}
	return out, s.wrap(rows.Err())
}

// Get returns a conversation and its messages in the order they were
// appended. id must be a full id; see Resolve for prefixes and titles.
func (s *Store) Get(ctx context.Context, id string) (Conversation, []Message, error) {
	// One read transaction, so a concurrent Append cannot slip between the
	// conversation row and its messages.
	tx, err := s.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return Conversation{}, nil, s.wrap(err)
	}
	defer tx.Rollback()
	c, err := s.conversation(ctx, tx, id)
	if err != nil {
		return Conversation{}, nil, err
	}
	rows, err := tx.QueryContext(ctx, `SELECT id, role, content, reasoning_content, name, tool_call_id,
		tool_calls, prompt_tokens, completion_tokens, cached_tokens, finish_reason, interrupted,
		incomplete, model, created_at, replaced FROM messages WHERE conversation_id = ? ORDER BY id`, id)
	if err != nil {
		return Conversation{}, nil, s.wrap(err)
	}
	defer rows.Close()
	msgs := make([]Message, 0, c.MessageCount)
	for rows.Next() {
		m := Message{ConversationID: id}
		var toolCalls []byte
		var created string
		err := rows.Scan(&m.ID, &m.Role, &m.Content, &m.ReasoningContent, &m.Name, &m.ToolCallID,
			&toolCalls, &m.PromptTokens, &m.CompletionTokens, &m.CachedTokens, &m.FinishReason,
			&m.Interrupted, &m.Incomplete, &m.Model, &created, &m.Replaced)
		if err != nil {
			return Conversation{}, nil, s.wrap(err)
		}
		if toolCalls != nil {
			m.ToolCalls = json.RawMessage(toolCalls)
		}
		if m.CreatedAt, err = parseTime(created); err != nil {
			return Conversation{}, nil, err
		}
		msgs = append(msgs, m)
	}
	if err := rows.Err(); err != nil {
		return Conversation{}, nil, s.wrap(err)
	}
	c.MessageCount = len(msgs)
	return c, msgs, nil
}

// Resolve finds the conversation a user means by ref: a full id, a unique id
// prefix of at least two characters (any case), or an exact title. It
// returns an error matching ErrNotFound when nothing matches and an
// *AmbiguousError when several do.
func (s *Store) Resolve(ctx context.Context, ref string) (Conversation, error) {
	ref = strings.TrimSpace(ref)
	if ref == "" {
		return Conversation{}, notFound(ref)
	}
	prefix := strings.ToLower(ref)
	if c, err := s.conversation(ctx, s.db, prefix); !errors.Is(err, ErrNotFound) {
		return c, err
	}
	where, args := `c.title = ?`, []any{ref}
	// validID also guarantees the prefix holds no GLOB metacharacters; a
	// GLOB without them is answered from the id index.
	if len(prefix) >= minPrefix && validID(prefix) {
		where, args = `c.id GLOB ? OR `+where, []any{prefix + "*", ref}
	}
	matches, err := s.conversations(ctx, s.db, `SELECT `+conversationCols+` FROM conversations c
		WHERE `+where+newestFirst, args...)
	if err != nil {
		return Conversation{}, err
	}
	switch len(matches) {
	case 0:
		return Conversation{}, notFound(ref)
	case 1:
		return matches[0], nil
	default:
		return Conversation{}, &AmbiguousError{Ref: ref, Candidates: matches}
	}
}

// Latest returns the most recently updated conversation, the one
// `--continue` picks up.
func (s *Store) Latest(ctx context.Context) (Conversation, error) {
	cs, err := s.List(ctx, ListOptions{Limit: 1})
	if err != nil {
		return Conversation{}, err
	}
	if len(cs) == 0 {
		return Conversation{}, &notFoundError{msg: "no saved conversations"}
	}
	return cs[0], nil
}

// List returns conversations, most recently updated first.
func (s *Store) List(ctx context.Context, opts ListOptions) ([]Conversation, error) {
	limit := opts.Limit
	if limit <= 0 {
		limit = -1 // SQLite: no limit
	}
	return s.conversations(ctx, s.db, `SELECT `+conversationCols+` FROM conversations c`+newestFirst+
		` LIMIT ? OFFSET ?`, limit, max(opts.Offset, 0))
}

// RecentIDs returns the n most recently updated conversations for shell
// completion. It skips counting messages (MessageCount is 0) because it
// runs on every Tab press.
func (s *Store) RecentIDs(ctx context.Context, n int) ([]Conversation, error) {
	if n <= 0 {
		return nil, nil
	}
	return s.conversations(ctx, s.db, `SELECT c.id, c.title, c.model, c.system, c.created_at, c.updated_at, 0
		FROM conversations c`+newestFirst+` LIMIT ?`, n)
}

// Delete removes the conversations with the given full ids and their
// messages, and returns how many existed.
func (s *Store) Delete(ctx context.Context, ids ...string) (int, error) {
	var total int64
	err := s.writeTx(ctx, func(tx *sql.Tx) error {
		for _, id := range ids {
			res, err := tx.ExecContext(ctx, `DELETE FROM conversations WHERE id = ?`, id)
			if err != nil {
				return err
			}
			n, err := res.RowsAffected()
			if err != nil {
				return err
			}
			total += n
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return int(total), nil
}

// DeleteOlderThan removes the conversations last updated before t, with
// their messages, and returns how many it removed.
func (s *Store) DeleteOlderThan(ctx context.Context, t time.Time) (int, error) {
	var n int64
	err := s.writeTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM conversations WHERE updated_at < ?`, formatTime(t))
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, err
	}
	return int(n), nil
}
