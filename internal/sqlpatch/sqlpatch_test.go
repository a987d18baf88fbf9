package sqlpatch

import (
	"testing"

	"github.com/matryer/is"
)

func TestSet(t *testing.T) {
	is := is.New(t)
	name, keep := "new", (*string)(nil)
	off := false
	s := Dollar()
	s.Add("name", &name)
	s.Add("slug", keep)           // left alone
	s.Add("disabled", &off)       // set, though false
	s.Add("external_id", nil)     // set to NULL
	s.Add("updated_at", int64(7)) // set
	is.Equal(s.SQL(), "name = $1, disabled = $2, external_id = $3, updated_at = $4")
	is.Equal(s.Args, []any{"new", false, nil, int64(7)})
	is.Equal(s.Next(1), "$5")

	q := Question()
	q.Add("name", &name)
	is.Equal(q.SQL(), "name = ?")
	is.Equal(q.Next(2), "?")
}
