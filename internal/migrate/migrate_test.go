package migrate

import (
	"testing"
	"testing/fstest"

	"github.com/matryer/is"
)

func TestLoad(t *testing.T) {
	is := is.New(t)
	ms, err := Load(fstest.MapFS{
		"m/0002_more.sql":    {Data: []byte("two")},
		"m/0001_initial.sql": {Data: []byte("one")},
		"m/README":           {Data: []byte("not a migration")},
	}, "m")
	is.NoErr(err)
	is.Equal(ms, []Migration{{1, "0001_initial.sql", "one"}, {2, "0002_more.sql", "two"}}) // in version order

	_, err = Load(fstest.MapFS{"m/0001_a.sql": {}, "m/0003_c.sql": {}}, "m")
	is.True(err != nil) // a gap in the versions
	_, err = Load(fstest.MapFS{"m/initial.sql": {}}, "m")
	is.True(err != nil) // no version number
}

func TestPending(t *testing.T) {
	is := is.New(t)
	all := []Migration{{1, "0001_a.sql", ""}, {2, "0002_b.sql", ""}}
	p, err := Pending(all, nil)
	is.NoErr(err)
	is.Equal(len(p), 2) // an empty database needs all
	p, err = Pending(all, []string{"0001_a.sql"})
	is.NoErr(err)
	is.Equal(p, all[1:]) // the rest
	p, err = Pending(all, []string{"0001_a.sql", "0002_b.sql"})
	is.NoErr(err)
	is.Equal(len(p), 0) // up to date
	_, err = Pending(all, []string{"0001_a.sql", "0002_b.sql", "0003_c.sql"})
	is.True(err != nil) // newer than this program
	_, err = Pending(all, []string{"0001_other.sql"})
	is.True(err != nil) // someone else's migrations
}
