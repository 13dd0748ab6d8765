package history

import (
	"context"
	"database/sql"
	"fmt"
)

// migrations bring the schema from version i to i+1; the schema version is
// kept in PRAGMA user_version. Append new steps; never edit a released one.
//
// Times are TEXT in a fixed-width UTC form (timeLayout), so they sort as
// strings, keep nanoseconds, and stay readable with the sqlite3 shell.
var migrations = []string{
	// 1: conversations, messages and their full-text indexes.
	`
CREATE TABLE conversations (
	-- seq is a stable rowid for the external-content title index; an implicit
	-- rowid could be renumbered by VACUUM and desynchronise the index.
	seq        INTEGER PRIMARY KEY,
	id         TEXT NOT NULL UNIQUE,
	title      TEXT NOT NULL DEFAULT '',
	model      TEXT NOT NULL DEFAULT '',
	system     TEXT NOT NULL DEFAULT '',
	created_at TEXT NOT NULL,
	updated_at TEXT NOT NULL
);
CREATE INDEX conversations_by_update ON conversations(updated_at, seq);
CREATE INDEX conversations_by_title ON conversations(title);

CREATE TABLE messages (
	id                INTEGER PRIMARY KEY,
	conversation_id   TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
	role              TEXT NOT NULL,
	content           TEXT NOT NULL DEFAULT '',
	reasoning_content TEXT NOT NULL DEFAULT '',
	name              TEXT NOT NULL DEFAULT '',
	tool_call_id      TEXT NOT NULL DEFAULT '',
	tool_calls        TEXT, -- JSON exactly as sent or received; NULL when none
	prompt_tokens     INTEGER NOT NULL DEFAULT 0,
	completion_tokens INTEGER NOT NULL DEFAULT 0,
	cached_tokens     INTEGER NOT NULL DEFAULT 0,
	finish_reason     TEXT NOT NULL DEFAULT '',
	interrupted       INTEGER NOT NULL DEFAULT 0,
	incomplete        INTEGER NOT NULL DEFAULT 0,
	model             TEXT NOT NULL DEFAULT '',
	created_at        TEXT NOT NULL
);
CREATE INDEX messages_by_conversation ON messages(conversation_id, id);

-- The trigram tokenizer matches any substring of three or more characters,
-- which is what makes Chinese and Japanese text (no spaces between words)
-- searchable; shorter terms fall back to LIKE (see search.go).
CREATE VIRTUAL TABLE messages_fts USING fts5(
	content, content='messages', content_rowid='id', tokenize='trigram');
CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
	INSERT INTO messages_fts(rowid, content) VALUES (new.id, new.content);
END;
CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
	INSERT INTO messages_fts(messages_fts, rowid, content) VALUES ('delete', old.id, old.content);
END;
CREATE TRIGGER messages_fts_update AFTER UPDATE OF content ON messages BEGIN
	INSERT INTO messages_fts(messages_fts, rowid, content) VALUES ('delete', old.id, old.content);
	INSERT INTO messages_fts(rowid, content) VALUES (new.id, new.content);
END;

CREATE VIRTUAL TABLE conversations_fts USING fts5(
	title, content='conversations', content_rowid='seq', tokenize='trigram');
CREATE TRIGGER conversations_fts_insert AFTER INSERT ON conversations BEGIN
	INSERT INTO conversations_fts(rowid, title) VALUES (new.seq, new.title);
END;
CREATE TRIGGER conversations_fts_delete AFTER DELETE ON conversations BEGIN
	INSERT INTO conversations_fts(conversations_fts, rowid, title) VALUES ('delete', old.seq, old.title);
END;
CREATE TRIGGER conversations_fts_update AFTER UPDATE OF title ON conversations BEGIN
	INSERT INTO conversations_fts(conversations_fts, rowid, title) VALUES ('delete', old.seq, old.title);
	INSERT INTO conversations_fts(rowid, title) VALUES (new.seq, new.title);
END;
`,
	// 2: an exchange that /edit last replaced stays, marked, and is no longer sent again.
	`ALTER TABLE messages ADD COLUMN replaced INTEGER NOT NULL DEFAULT 0;`,
	// 3: the full-text indexes are filled lazily (index.go). Tokenising a long answer into
	// trigrams cost more than the rest of saving it, so a save only queues the row, and the
	// next search indexes the queue. A queued row is not in its index, so removing or
	// changing it must not send FTS5 a 'delete' for it: external-content FTS5 takes the
	// text it is given on trust, and a delete of text it never indexed corrupts the index.
	// A title is queued only when it changes (every Append writes the title back as it is).
	// Every row indexed so far stays indexed; nothing is queued by the upgrade.
	// Indexing many answers at once flushes FTS5's in-memory buffer into a new segment
	// whenever it fills, and those segments are then merged: a 16 MB buffer instead of
	// 1 MB takes about a sixth off the CPU of the first search after long answers
	// (BenchmarkFirstSearch), for up to 16 MB of memory while it runs.
	`
INSERT INTO messages_fts(messages_fts, rank) VALUES ('hashsize', 16777216);
CREATE TABLE messages_fts_pending (id INTEGER PRIMARY KEY);
CREATE TABLE conversations_fts_pending (seq INTEGER PRIMARY KEY);

DROP TRIGGER messages_fts_insert;
DROP TRIGGER messages_fts_delete;
DROP TRIGGER messages_fts_update;
CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
	INSERT INTO messages_fts_pending(id) VALUES (new.id);
END;
CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
	INSERT INTO messages_fts(messages_fts, rowid, content) SELECT 'delete', old.id, old.content
		WHERE NOT EXISTS (SELECT 1 FROM messages_fts_pending WHERE id = old.id);
	DELETE FROM messages_fts_pending WHERE id = old.id;
END;
CREATE TRIGGER messages_fts_update AFTER UPDATE OF content ON messages
	WHEN old.content IS NOT new.content BEGIN
	INSERT INTO messages_fts(messages_fts, rowid, content) SELECT 'delete', old.id, old.content
		WHERE NOT EXISTS (SELECT 1 FROM messages_fts_pending WHERE id = old.id);
	INSERT OR IGNORE INTO messages_fts_pending(id) VALUES (new.id);
END;

DROP TRIGGER conversations_fts_insert;
DROP TRIGGER conversations_fts_delete;
DROP TRIGGER conversations_fts_update;
CREATE TRIGGER conversations_fts_insert AFTER INSERT ON conversations BEGIN
	INSERT INTO conversations_fts_pending(seq) VALUES (new.seq);
END;
CREATE TRIGGER conversations_fts_delete AFTER DELETE ON conversations BEGIN
	INSERT INTO conversations_fts(conversations_fts, rowid, title) SELECT 'delete', old.seq, old.title
		WHERE NOT EXISTS (SELECT 1 FROM conversations_fts_pending WHERE seq = old.seq);
	DELETE FROM conversations_fts_pending WHERE seq = old.seq;
END;
CREATE TRIGGER conversations_fts_update AFTER UPDATE OF title ON conversations
	WHEN old.title IS NOT new.title BEGIN
	INSERT INTO conversations_fts(conversations_fts, rowid, title) SELECT 'delete', old.seq, old.title
		WHERE NOT EXISTS (SELECT 1 FROM conversations_fts_pending WHERE seq = old.seq);
	INSERT OR IGNORE INTO conversations_fts_pending(seq) VALUES (new.seq);
END;
`,
}

// checkSchema refuses, before Open changes anything (even the journal
// mode), a database this build must not touch: one from a newer moonchat,
// or one of another program. It returns the schema version.
func (s *Store) checkSchema(ctx context.Context) (int, error) {
	// One statement, so both numbers come from the same snapshot: another
	// process may be migrating this very file.
	var v, objects int
	err := s.db.QueryRowContext(ctx, `SELECT (SELECT user_version FROM pragma_user_version),
		(SELECT count(*) FROM sqlite_schema)`).Scan(&v, &objects)
	if err != nil {
		return 0, s.wrap(err)
	}
	if v > len(migrations) {
		return 0, &VersionError{Path: s.path, Version: v, Supported: len(migrations)}
	}
	if v == 0 && objects > 0 {
		// Version 0 with tables means someone else's database (a mistyped
		// path, say): adding ours would mix the two.
		return 0, fmt.Errorf("history database %s is a SQLite database of another program (it has tables but no moonchat schema); move it aside to start a new one", s.path)
	}
	return v, nil
}

// migrate applies the migrations after version v, each in its own write
// transaction. Opening an up-to-date database writes nothing.
func (s *Store) migrate(ctx context.Context, v int) error {
	for target := v + 1; target <= len(migrations); target++ {
		err := s.writeTx(ctx, func(tx *sql.Tx) error {
			// Another process may have migrated while we waited for the
			// write lock; the version read under the lock is the truth.
			cur, err := userVersion(ctx, tx)
			if err != nil {
				return err
			}
			if cur > len(migrations) {
				return &VersionError{Path: s.path, Version: cur, Supported: len(migrations)}
			}
			if cur >= target {
				return nil
			}
			if _, err := tx.ExecContext(ctx, migrations[target-1]); err != nil {
				return fmt.Errorf("migrate history database to version %d: %w", target, err)
			}
			// PRAGMA does not take bound parameters; target is our own int.
			_, err = tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", target))
			return err
		})
		if err != nil {
			return err
		}
	}
	return nil
}

type queryer interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func userVersion(ctx context.Context, q queryer) (int, error) {
	var v int
	err := q.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v)
	return v, err
}
