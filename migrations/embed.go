// Package migrations holds the PostgreSQL schema as goose SQL migrations,
// embedded so that `waymark migrate up`, `waymark dev` and the test kits
// apply exactly the same files.
package migrations

import "embed"

// FS holds the *.sql migrations in order of their numeric prefix.
//
//go:embed *.sql
var FS embed.FS
