package registry

import (
	"errors"

	"github.com/jackc/pgx/v5/pgconn"
)

// mapPG turns constraint violations into registry errors: a unique
// violation is an object that exists, a foreign key one an object (a
// contact, a registrar) that does not.
func mapPG(err error) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "23505":
			return errorf(ErrObjectExists, "the object exists")
		case "23503":
			return errorf(ErrObjectDoesNotExist, "a referenced object does not exist (%s)", pe.ConstraintName)
		}
	}
	return err
}
