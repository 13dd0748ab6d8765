package history

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Fork copies the first n messages of conversation id into a new conversation, with the same
// model and system prompt, titled title (the original's title with " (fork)" when empty), in
// one transaction. n must be between 1 and the number of messages. The copy starts a branch:
// the original is left as it is.
func (s *Store) Fork(ctx context.Context, id string, n int, title string) (Conversation, error) {
	orig, err := s.conversation(ctx, s.db, id)
	if err != nil {
		return Conversation{}, err
	}
	if n < 1 || n > orig.MessageCount {
		return Conversation{}, &RangeError{N: n, Count: orig.MessageCount}
	}
	if title == "" {
		title = orig.Title + " (fork)"
	}
	now := formatTime(time.Now().UTC())
	for attempt := 0; ; attempt++ {
		newID, err := newID()
		if err != nil {
			return Conversation{}, err
		}
		err = s.writeTx(ctx, func(tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, `INSERT INTO conversations (id, title, model, system, created_at, updated_at)
				VALUES (?, ?, ?, ?, ?, ?)`, newID, title, orig.Model, orig.System, now, now); err != nil {
				return err
			}
			res, err := tx.ExecContext(ctx, `INSERT INTO messages (conversation_id, role, content,
				reasoning_content, name, tool_call_id, tool_calls, prompt_tokens, completion_tokens,
				cached_tokens, finish_reason, interrupted, incomplete, model, created_at, replaced)
				SELECT ?, role, content, reasoning_content, name, tool_call_id, tool_calls,
				prompt_tokens, completion_tokens, cached_tokens, finish_reason, interrupted,
				incomplete, model, created_at, replaced
				FROM messages WHERE conversation_id = ? ORDER BY id LIMIT ?`, newID, id, n)
			if err != nil {
				return err
			}
			// Another moonchat may have removed messages since the count was read.
			if copied, err := res.RowsAffected(); err != nil {
				return err
			} else if int(copied) != n {
				return fmt.Errorf("conversation %s changed while it was forked; try again", id)
			}
			return nil
		})
		switch {
		case err == nil:
			return s.conversation(ctx, s.db, newID)
		case isUniqueViolation(err) && attempt < 5:
			continue
		}
		return Conversation{}, err
	}
}

// RangeError is a message number outside a conversation.
type RangeError struct{ N, Count int }

func (e *RangeError) Error() string {
	if e.Count == 0 {
		return "the conversation has no messages to fork"
	}
	return fmt.Sprintf("message %d is outside the conversation: it has messages 1 to %d", e.N, e.Count)
}
