package registry

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
)

// Registrar is an account of the registry: an EPP client, or the built-in
// registrar.
type Registrar struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// EnsureRegistrar creates or updates a registrar account. An empty
// password allows no EPP login.
func (r *Registry) EnsureRegistrar(ctx context.Context, id, name, password string) error {
	var hash []byte
	if password != "" {
		var err error
		if hash, err = hashPassword(r.cfg.Rand, password); err != nil {
			return err
		}
	}
	_, err := r.db.Exec(ctx, `INSERT INTO registry_registrar (id, name, password_hash, created_at) VALUES ($1, $2, $3, $4)
	                          ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, password_hash = EXCLUDED.password_hash`,
		id, name, hash, r.Now())
	return err
}

// CheckLogin reports whether password is registrar id's EPP password. A
// hash kept under older parameters (or a SHA-256 digest from before
// Argon2id) is replaced on a successful login.
func (r *Registry) CheckLogin(ctx context.Context, id, password string) (bool, error) {
	var hash []byte
	err := r.db.QueryRow(ctx, `SELECT password_hash FROM registry_registrar WHERE id = $1`, id).Scan(&hash)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return false, err
	}
	if hash == nil {
		_, _, _ = checkPassword([]byte(dummyHash), password)
		return false, nil
	}
	ok, rehash, err := checkPassword(hash, password)
	if err != nil || !ok {
		return false, err
	}
	if rehash {
		fresh, err := hashPassword(r.cfg.Rand, password)
		if err != nil {
			return false, err
		}
		// Only if unchanged meanwhile: an operator's new password wins.
		if _, err := r.db.Exec(ctx, `UPDATE registry_registrar SET password_hash = $2 WHERE id = $1 AND password_hash = $3`, id, fresh, hash); err != nil {
			return false, err
		}
	}
	return true, nil
}

// ContactInfo holds a contact's RFC 5733 fields.
type ContactInfo struct {
	Name         string   `json:"name"`
	Organization string   `json:"organization,omitempty"`
	Street       []string `json:"street,omitempty"`
	City         string   `json:"city"`
	State        string   `json:"state,omitempty"`
	PostalCode   string   `json:"postal_code,omitempty"`
	CountryCode  string   `json:"country_code"`
	Voice        string   `json:"voice,omitempty"`
	Fax          string   `json:"fax,omitempty"`
	Email        string   `json:"email"`
}

// Contact is a contact object.
type Contact struct {
	ID          string      `json:"id"`
	ROID        string      `json:"roid"`
	RegistrarID string      `json:"registrar_id"`
	Info        ContactInfo `json:"info"`
	CreatedAt   time.Time   `json:"created_at"`
}

// CreateContact creates a contact of registrar clID with the given id
// (3-16 characters, RFC 5730 clIDType).
func (tx *Tx) CreateContact(ctx context.Context, clID, id string, info ContactInfo) (Contact, error) {
	if len(id) < 3 || len(id) > 16 {
		return Contact{}, errorf(ErrParameterPolicy, "contact id %q must be 3 to 16 characters", id)
	}
	if info.Name == "" || info.Email == "" || len(info.CountryCode) != 2 {
		return Contact{}, errorf(ErrParameterPolicy, "a contact needs a name, an email address and a two-letter country code")
	}
	enc, err := json.Marshal(info)
	if err != nil {
		return Contact{}, err
	}
	roid, err := tx.r.newToken(10)
	if err != nil {
		return Contact{}, err
	}
	now := tx.r.Now()
	tag, err := tx.zt.Tx().Exec(ctx, `INSERT INTO registry_contact (id, roid, registrar_id, info, created_at, updated_at)
	                                  VALUES ($1, $2, $3, $4, $5, $5) ON CONFLICT (id) DO NOTHING`, id, roid+"-CONT", clID, enc, now)
	if err != nil {
		return Contact{}, mapPG(err)
	}
	if tag.RowsAffected() == 0 {
		return Contact{}, errorf(ErrObjectExists, "contact %s exists", id)
	}
	return Contact{ID: id, ROID: roid + "-CONT", RegistrarID: clID, Info: info, CreatedAt: now}, nil
}

// Contact returns a contact object.
func (r *Registry) Contact(ctx context.Context, id string) (Contact, error) {
	var c Contact
	var raw []byte
	err := r.db.QueryRow(ctx, `SELECT id, roid, registrar_id, info, created_at FROM registry_contact WHERE id = $1`, id).
		Scan(&c.ID, &c.ROID, &c.RegistrarID, &raw, &c.CreatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return Contact{}, errorf(ErrObjectDoesNotExist, "no contact %s", id)
	}
	if err != nil {
		return Contact{}, err
	}
	return c, json.Unmarshal(raw, &c.Info)
}

// PollMessage is a message in a registrar's poll queue.
type PollMessage struct {
	ID        int64     `json:"id"`
	Domain    string    `json:"domain"`
	Kind      string    `json:"kind"`
	Message   string    `json:"message"`
	CreatedAt time.Time `json:"created_at"`
	// ClTRID is the command a message settles (a create that waited
	// for approval), "" for other news.
	ClTRID string `json:"cl_trid,omitempty"`
}

// Notify queues a poll message for registrar clID.
func (tx *Tx) Notify(ctx context.Context, clID, domain, kind, msg string) error {
	_, err := tx.zt.Tx().Exec(ctx, `INSERT INTO registry_poll (registrar_id, domain, kind, message, created_at) VALUES ($1, $2, $3, $4, $5)`,
		clID, domain, kind, msg, tx.r.Now())
	return err
}

// Poll returns the oldest unacknowledged message of registrar clID and the
// number waiting (EPP poll req); ok is false when the queue is empty.
func (r *Registry) Poll(ctx context.Context, clID string) (m PollMessage, count int, ok bool, err error) {
	err = r.db.QueryRow(ctx, `SELECT id, domain, kind, message, created_at, cl_trid, count(*) OVER ()
	                          FROM registry_poll WHERE registrar_id = $1 AND acked_at IS NULL ORDER BY id LIMIT 1`, clID).
		Scan(&m.ID, &m.Domain, &m.Kind, &m.Message, &m.CreatedAt, &m.ClTRID, &count)
	if errors.Is(err, pgx.ErrNoRows) {
		return PollMessage{}, 0, false, nil
	}
	return m, count, err == nil, err
}

// Ack acknowledges a poll message (EPP poll ack).
func (r *Registry) Ack(ctx context.Context, clID string, id int64) error {
	tag, err := r.db.Exec(ctx, `UPDATE registry_poll SET acked_at = $3 WHERE registrar_id = $1 AND id = $2 AND acked_at IS NULL`, clID, id, r.Now())
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return errorf(ErrObjectDoesNotExist, "no message %d in the queue", id)
	}
	return nil
}
