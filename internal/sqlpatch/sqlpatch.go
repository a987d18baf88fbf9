// Package sqlpatch builds the SET clause of an SQL UPDATE from a patch,
// whose nil fields mean "leave the column as it is".
package sqlpatch

import (
	"strconv"
	"strings"
)

// Set is the SET clause being built and its arguments, in order.
type Set struct {
	cols        []string
	Args        []any
	placeholder func(n int) string
}

// Question returns a Set for drivers whose placeholders are "?" (SQLite).
func Question() *Set {
	return &Set{placeholder: func(int) string { return "?" }}
}

// Dollar returns a Set for drivers whose placeholders are numbered "$1",
// "$2"… (Postgres), numbering from $1.
func Dollar() *Set {
	return &Set{placeholder: func(n int) string { return "$" + strconv.Itoa(n) }}
}

// Add sets column to v, unless v is a nil *string or *bool: a field the
// patch leaves alone. Any other v, nil included, is set.
func (s *Set) Add(column string, v any) {
	switch p := v.(type) {
	case *string:
		if p == nil {
			return
		}
		v = *p
	case *bool:
		if p == nil {
			return
		}
		v = *p
	}
	s.Args = append(s.Args, v)
	s.cols = append(s.cols, column+" = "+s.placeholder(len(s.Args)))
}

// SQL returns the clause: "a = ?, b = ?".
func (s *Set) SQL() string { return strings.Join(s.cols, ", ") }

// Next returns the placeholder of the i-th argument after the clause's own,
// for the WHERE clause that follows it: Next(1) is the first.
func (s *Set) Next(i int) string { return s.placeholder(len(s.Args) + i) }
