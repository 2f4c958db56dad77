// Package store reads and writes guilds with sqlx.
package store

import (
	"context"

	"github.com/jmoiron/sqlx"
)

// Guild is a row of the guilds table.
type Guild struct {
	Name string `db:"name" json:"name"`
	Tag  string `db:"tag" json:"tag"`
	ID   int64  `db:"id" json:"id"`
}

// Member is a row of the members table.
type Member struct {
	Name    string `db:"name"`
	GuildID int64  `db:"guild_id"`
	ID      int64  `db:"id"`
}

// Store is what the handlers need; pgStore is its only implementation.
type Store interface {
	Guild(ctx context.Context, id int64) (Guild, error)
	MemberIDs(ctx context.Context, guildID int64) ([]int64, error)
	Member(ctx context.Context, id int64) (Member, error)
	CreateGuild(ctx context.Context, g Guild) (int64, error)
	AddMember(ctx context.Context, m Member) error
	Touch(ctx context.Context, id int64) error
	Names(ctx context.Context, ids []int64) ([]string, error)
	Tags(ctx context.Context) ([]string, error)
}

type pgStore struct {
	db *sqlx.DB
}

// New returns the Store on db.
func New(db *sqlx.DB) Store { return &pgStore{db: db} }

func (s *pgStore) Guild(ctx context.Context, id int64) (Guild, error) {
	var g Guild
	err := s.db.GetContext(ctx, &g, "SELECT id, name, tag FROM guilds WHERE id = $1", id)
	return g, err
}

func (s *pgStore) MemberIDs(ctx context.Context, guildID int64) ([]int64, error) {
	var ids []int64
	err := s.db.SelectContext(ctx, &ids, "SELECT id FROM members WHERE guild_id = $1", guildID)
	return ids, err
}

func (s *pgStore) Member(ctx context.Context, id int64) (Member, error) {
	var m Member
	err := s.db.GetContext(ctx, &m, "SELECT id, guild_id, name FROM members WHERE id = $1", id)
	return m, err
}

// CreateGuild inserts a guild; QueryRowx reads back the id, but it is a
// write, not a read to cache.
func (s *pgStore) CreateGuild(ctx context.Context, g Guild) (int64, error) {
	var id int64
	err := s.db.QueryRowxContext(ctx, "INSERT INTO guilds (name, tag) VALUES ($1, $2) RETURNING id", g.Name, g.Tag).Scan(&id)
	return id, err
}

func (s *pgStore) AddMember(ctx context.Context, m Member) error {
	_, err := s.db.NamedExecContext(ctx, "INSERT INTO members (guild_id, name) VALUES (:guild_id, :name)", m)
	return err
}

func (s *pgStore) Touch(ctx context.Context, id int64) error {
	_, err := s.db.ExecContext(ctx, "UPDATE guilds SET seen_at = now() WHERE id = $1", id)
	return err
}

// Names reads one name per id: the sqlx N+1, without a context.
func (s *pgStore) Names(ctx context.Context, ids []int64) ([]string, error) {
	names := make([]string, 0, len(ids))
	for _, id := range ids {
		var n string
		if err := s.db.Get(&n, "SELECT name FROM members WHERE id = $1", id); err != nil { // want: batch timeouts
			return nil, err
		}
		names = append(names, n)
	}
	return names, nil
}

// Tags forgets both rows.Close and rows.Err: two findings on one line.
func (s *pgStore) Tags(ctx context.Context) ([]string, error) {
	rows, err := s.db.QueryxContext(ctx, "SELECT tag FROM guilds") // want: resources resources
	if err != nil {
		return nil, err
	}
	var tags []string
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			return nil, err
		}
		tags = append(tags, t)
	}
	return tags, nil
}

// Rename renames guilds one statement at a time, in a transaction.
func Rename(ctx context.Context, db *sqlx.DB, names map[int64]string) error {
	tx, err := db.BeginTxx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	for id, n := range names {
		if _, err := tx.NamedExecContext(ctx, "UPDATE guilds SET name = :name WHERE id = :id", map[string]any{"id": id, "name": n}); err != nil { // want: batch
			return err
		}
	}
	return tx.Commit()
}
