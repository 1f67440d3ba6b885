package controlplane

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Tags on hosted zones and health checks, Route 53's cost-allocation tags:
// key/value pairs that mean nothing to DNS. Terraform and external-dns
// read them on every refresh.

// Limits on tags, Route 53's.
const (
	MaxTagsPerResource = 50
	MaxTagChanges      = 10 // tags added, and keys removed, per request
	MaxTagKeyLength    = 128
	MaxTagValueLength  = 256
	MaxTagResources    = 10 // resources per ListTagsForResources
)

// TagResourceType is what a tag is on.
type TagResourceType string

// The taggable resources.
const (
	TagHostedZone  TagResourceType = "hostedzone"
	TagHealthCheck TagResourceType = "healthcheck"
)

// Tag is one tag.
type Tag struct {
	Key   string
	Value string
}

// ResourceTags are the tags of one resource.
type ResourceTags struct {
	Type TagResourceType
	ID   string
	Tags []Tag
}

// tagTable returns the table and id column of a resource type, and the
// query that finds a live resource of the tenant.
func tagTable(t TagResourceType) (table, column, exists string, err error) {
	switch t {
	case TagHostedZone:
		return "hosted_zone_tag", "zone_id", `SELECT EXISTS (SELECT 1 FROM hosted_zone WHERE id = $1 AND tenant_id = $2)`, nil
	case TagHealthCheck:
		return "health_check_tag", "health_check_id",
			`SELECT EXISTS (SELECT 1 FROM health_check WHERE id = $1 AND tenant_id = $2 AND deleted_at IS NULL)`, nil
	}
	return "", "", "", Errorf(CodeInvalidInput, "ResourceType must be hostedzone or healthcheck, not %q", displayID(string(t)))
}

// errNoSuchResource is the "not found" of a resource type, the same as the
// resource's own operations give (another tenant's id reads as missing).
func errNoSuchResource(t TagResourceType, id string) *Error {
	if t == TagHealthCheck {
		return errNoSuchHealthCheck(displayID(id))
	}
	return errNoSuchZone(displayID(id))
}

// tagResourceID accepts a zone id with or without its /hostedzone/ prefix
// and a health check id as it is.
func tagResourceID(t TagResourceType, id string) (string, bool) {
	if t == TagHostedZone {
		return cleanID(id)
	}
	if id == "" || len(id) > MaxReferenceIDLen || !utf8.ValidString(id) || strings.ContainsAny(id, "/\x00") {
		return "", false
	}
	return id, true
}

// MaxReferenceIDLen bounds a health check id given as a tag resource.
const MaxReferenceIDLen = 64

// ChangeTags adds (or overwrites) and removes tags of one of the tenant's
// resources in one transaction. At most MaxTagChanges of each per call and
// MaxTagsPerResource on a resource (InvalidInput); keys starting with
// "aws:" are reserved. A key both added and removed is InvalidInput.
func (s *Service) ChangeTags(ctx context.Context, tenantID string, typ TagResourceType, resourceID string, add []Tag, remove []string) error {
	table, col, exists, err := tagTable(typ)
	if err != nil {
		return err
	}
	id, ok := tagResourceID(typ, resourceID)
	if !ok {
		return errNoSuchResource(typ, resourceID)
	}
	if len(add) == 0 && len(remove) == 0 {
		return Errorf(CodeInvalidInput, "ChangeTagsForResource needs AddTags or RemoveTagKeys")
	}
	if len(add) > MaxTagChanges || len(remove) > MaxTagChanges {
		return Errorf(CodeInvalidInput, "At most %d tags may be added and %d removed in one request", MaxTagChanges, MaxTagChanges)
	}
	seen := map[string]bool{}
	for _, tg := range add {
		if err := checkTag(tg); err != nil {
			return err
		}
		if seen[tg.Key] {
			return Errorf(CodeInvalidInput, "Tag key %q is given twice", tg.Key)
		}
		seen[tg.Key] = true
	}
	for _, k := range remove {
		if err := checkText("Key", k, 1, MaxTagKeyLength); err != nil {
			return err
		}
		if seen[k] {
			return Errorf(CodeInvalidInput, "Tag key %q is both added and removed", k)
		}
	}
	return s.inTx(ctx, func(tx pgx.Tx) error {
		var found bool
		if err := tx.QueryRow(ctx, exists, id, tenantID).Scan(&found); err != nil {
			return fmt.Errorf("find tagged resource: %w", err)
		}
		if !found {
			return errNoSuchResource(typ, id)
		}
		if err := lockTags(ctx, tx, id); err != nil {
			return err
		}
		if len(remove) > 0 {
			if _, err := tx.Exec(ctx, `DELETE FROM `+table+` WHERE `+col+` = $1 AND key = ANY($2)`, id, remove); err != nil {
				return fmt.Errorf("remove tags: %w", err)
			}
		}
		for _, tg := range add {
			if _, err := tx.Exec(ctx, `INSERT INTO `+table+` (`+col+`, key, value) VALUES ($1, $2, $3)
			                           ON CONFLICT (`+col+`, key) DO UPDATE SET value = EXCLUDED.value`, id, tg.Key, tg.Value); err != nil {
				var pe *pgconn.PgError
				if errors.As(err, &pe) && pe.Code == "23503" {
					return errNoSuchResource(typ, id) // deleted meanwhile
				}
				return fmt.Errorf("add tag: %w", err)
			}
		}
		var n int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM `+table+` WHERE `+col+` = $1`, id).Scan(&n); err != nil {
			return fmt.Errorf("count tags: %w", err)
		}
		if n > MaxTagsPerResource {
			return Errorf(CodeInvalidInput, "A resource may have at most %d tags; this change would leave %d", MaxTagsPerResource, n)
		}
		return nil
	})
}

// ListTags returns the tags of one of the tenant's resources, by key.
func (s *Service) ListTags(ctx context.Context, tenantID string, typ TagResourceType, resourceID string) (ResourceTags, error) {
	out, err := s.ListTagsForResources(ctx, tenantID, typ, []string{resourceID})
	if err != nil {
		return ResourceTags{}, err
	}
	return out[0], nil
}

// ListTagsForResources returns the tags of up to MaxTagResources of the
// tenant's resources of one type, in the order asked. Any missing one
// fails the whole call, as in Route 53.
func (s *Service) ListTagsForResources(ctx context.Context, tenantID string, typ TagResourceType, resourceIDs []string) ([]ResourceTags, error) {
	table, col, exists, err := tagTable(typ)
	if err != nil {
		return nil, err
	}
	if len(resourceIDs) == 0 || len(resourceIDs) > MaxTagResources {
		return nil, Errorf(CodeInvalidInput, "Give 1 to %d resource ids", MaxTagResources)
	}
	out := make([]ResourceTags, len(resourceIDs))
	ids := make([]string, len(resourceIDs))
	for i, raw := range resourceIDs {
		id, ok := tagResourceID(typ, raw)
		if !ok {
			return nil, errNoSuchResource(typ, raw)
		}
		ids[i] = id
		out[i] = ResourceTags{Type: typ, ID: id, Tags: []Tag{}}
	}
	b := &pgx.Batch{}
	missing := ""
	for _, id := range ids {
		b.Queue(exists, id, tenantID).QueryRow(func(row pgx.Row) error {
			var ok bool
			if err := row.Scan(&ok); err != nil {
				return err
			}
			if !ok && missing == "" {
				missing = id
			}
			return nil
		})
	}
	byID := map[string][]Tag{}
	b.Queue(`SELECT `+col+`, key, value FROM `+table+` WHERE `+col+` = ANY($1) ORDER BY `+col+`, key`, ids).
		Query(func(rows pgx.Rows) error {
			for rows.Next() {
				var id string
				var tg Tag
				if err := rows.Scan(&id, &tg.Key, &tg.Value); err != nil {
					return err
				}
				byID[id] = append(byID[id], tg)
			}
			return rows.Err()
		})
	if err := s.pool.SendBatch(ctx, b).Close(); err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("list tags: %w", err)
	}
	if missing != "" {
		return nil, errNoSuchResource(typ, missing)
	}
	for i := range out {
		if tags := byID[out[i].ID]; tags != nil {
			out[i].Tags = slices.Clone(tags)
		}
	}
	return out, nil
}

func checkTag(tg Tag) error {
	if err := checkText("Key", tg.Key, 1, MaxTagKeyLength); err != nil {
		return err
	}
	if strings.HasPrefix(strings.ToLower(tg.Key), "aws:") {
		return Errorf(CodeInvalidInput, "Tag keys starting with aws: are reserved")
	}
	return checkText("Value", tg.Value, 0, MaxTagValueLength)
}
