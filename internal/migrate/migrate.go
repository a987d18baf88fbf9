// Package migrate is the one migration runner of the stores: it reads the
// numbered schema migrations a store embeds, decides which of them a
// database still needs, and applies and records them in one transaction
// (Run). A store supplies only its SQL dialect (Tx) and its transaction;
// version numbers are kept in step between stores, so version N means the
// same schema in every database.
package migrate

import (
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
)

// Migration is one schema change, from a file named NNNN_name.sql.
type Migration struct {
	Version int
	// Name is the file name, recorded with the version so that a database
	// migrated by another program is recognised as such.
	Name string
	SQL  string
}

// Load reads the *.sql files of dir in fsys, in version order, and checks
// that their versions run 1, 2, 3… without a gap.
func Load(fsys fs.FS, dir string) ([]Migration, error) {
	files, err := fs.Glob(fsys, path.Join(dir, "*.sql"))
	if err != nil {
		return nil, err
	}
	var out []Migration
	for _, f := range files {
		name := path.Base(f)
		num, _, ok := strings.Cut(name, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil {
			return nil, fmt.Errorf("migration %s is not named NNNN_name.sql", name)
		}
		body, err := fs.ReadFile(fsys, f)
		if err != nil {
			return nil, err
		}
		out = append(out, Migration{Version: v, Name: name, SQL: string(body)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	for i, m := range out {
		if m.Version != i+1 {
			return nil, fmt.Errorf("migration %s is out of sequence: want version %d", m.Name, i+1)
		}
	}
	return out, nil
}

// Pending returns the migrations a database still needs, given the names of
// those it has in version order. It refuses a database that has a
// migration this program does not know, or one under another name.
func Pending(all []Migration, applied []string) ([]Migration, error) {
	if len(applied) > len(all) {
		return nil, fmt.Errorf("database schema is at version %d, newer than this nahook knows (%d); upgrade nahook", len(applied), len(all))
	}
	for i, name := range applied {
		if name != all[i].Name {
			return nil, fmt.Errorf("database has migration %d as %q where this nahook has %q: it is not a nahook database, or another version's", i+1, name, all[i].Name)
		}
	}
	return all[len(applied):], nil
}
