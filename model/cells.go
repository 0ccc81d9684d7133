package model

import (
	"encoding/json"
	"iter"
	"reflect"
	"sync"
	"time"
)

// Cells are a run's cells (Run.Observations), held as rows without
// pointers (docs/design.md, "Outputs at scale"). A Cell is 368 bytes and
// a dozen pointers the collector scans; a row is 96 bytes, its texts
// (URL, role, class, digests, rule name, ...) indexes into one table of
// the run's texts, each held once or nearly (see many), and the rare
// structured fields (redirect chain, missing-sibling comparison, body
// checks) an index into a side table. At a million cells that is the difference between 370 MB the
// collector walks on every cycle and 100 MB it never looks into.
//
// At gives a cell as a value; Set stores one. Set may be called from
// several goroutines at once (the probe's workers), but not alongside At,
// All, Append or Keep.
type Cells struct {
	mu     sync.Mutex
	rows   []cellRow
	texts  []string           // texts[0] is ""
	index  map[string]uint32  // text -> its index in texts, for the texts of few values
	recent [nRecent][8]uint32 // per kind of text of many values, the last indexes given
	extras []cellExtra        // extras[0] is unused: a row's extra 0 is none
}

// cellRow is one cell; every text is an index into Cells.texts.
type cellRow struct {
	method, url, role, location, class, why, contentType uint32
	digest, excerpt, err, session, digestNoIDs, canaryOf uint32
	template, expected, rule, verdict                    uint32
	extra                                                uint32 // index into Cells.extras; 0 for none, or missingAlike
	status                                               int32
	truncated, wwwAuth                                   bool
	size                                                 int64
	latency                                              time.Duration
}

// The texts of many values: one per endpoint (URL, rule, template) or per
// body (digests, excerpt). A map of them all cost 40 bytes a text, 37 MB
// at a million cells; they repeat, when they do, in the cells of one
// endpoint, which the probe sets close together. They are matched with
// the last few of their kind, and a repeat further away is a second
// entry in texts (16 bytes) that reads back the same.
const (
	recentURL = iota
	recentDigest
	recentDigestNoIDs
	recentExcerpt
	recentCanaryOf
	recentTemplate
	recentRule
	nRecent
)

// nNeighbours is how many cells on each side many looks at.
const nNeighbours = 4

// many is the row's text of kind, of many values (recentURL...).
func (r *cellRow) many(kind int) uint32 {
	switch kind {
	case recentURL:
		return r.url
	case recentDigest:
		return r.digest
	case recentDigestNoIDs:
		return r.digestNoIDs
	case recentExcerpt:
		return r.excerpt
	case recentCanaryOf:
		return r.canaryOf
	case recentTemplate:
		return r.template
	case recentRule:
		return r.rule
	}
	panic("model: not a kind of text of many values")
}

// missingAlike is the extra of a cell whose only rare field is a Missing
// that tells no difference (&MissingBody{}): most denials of a group with
// existence canaries, 100,000 of 200,000 cells on the benchmark target.
// It needs no entry in extras, which cost 90 bytes and more a cell
// (the entry, the MissingBody, the list grown by halves).
const missingAlike = ^uint32(0)

// cellExtra holds a cell's fields that are rarely set and are not texts.
type cellExtra struct {
	chain      []Hop
	missing    *MissingBody
	bodyChecks []BodyCheckResult
}

// NewCells returns n zero cells.
func NewCells(n int) *Cells {
	return &Cells{rows: make([]cellRow, n), texts: []string{""}, index: map[string]uint32{}}
}

// CellsOf returns cells holding cs, in order.
func CellsOf(cs ...Cell) *Cells {
	s := NewCells(len(cs))
	for i := range cs {
		s.set(i, &cs[i])
	}
	return s
}

// Len is the number of cells; 0 for nil.
func (s *Cells) Len() int {
	if s == nil {
		return 0
	}
	return len(s.rows)
}

// At returns cell i.
func (s *Cells) At(i int) Cell {
	r := &s.rows[i]
	t := s.texts
	c := Cell{
		Observation: Observation{
			Endpoint:             Endpoint{Method: t[r.method], URL: t[r.url]},
			Role:                 t[r.role],
			Status:               int(r.status),
			Location:             t[r.location],
			Class:                Class(t[r.class]),
			Why:                  t[r.why],
			ContentType:          t[r.contentType],
			Size:                 r.size,
			Truncated:            r.truncated,
			BodySHA256:           t[r.digest],
			Excerpt:              t[r.excerpt],
			WWWAuth:              r.wwwAuth,
			Latency:              r.latency,
			Err:                  t[r.err],
			Session:              t[r.session],
			BodySHA256WithoutIDs: t[r.digestNoIDs],
			CanaryOf:             t[r.canaryOf],
		},
		Template: t[r.template],
		Expected: t[r.expected],
		Rule:     t[r.rule],
		Verdict:  Verdict(t[r.verdict]),
	}
	switch r.extra {
	case 0:
	case missingAlike:
		c.Missing = &MissingBody{}
	default:
		x := &s.extras[r.extra]
		c.Chain, c.Missing, c.BodyChecks = x.chain, x.missing, x.bodyChecks
	}
	return c
}

// Set stores c as cell i.
func (s *Cells) Set(i int, c Cell) {
	s.mu.Lock()
	s.set(i, &c)
	s.mu.Unlock()
}

// Append adds c after the last cell.
func (s *Cells) Append(c Cell) {
	s.rows = append(s.rows, cellRow{})
	s.set(len(s.rows)-1, &c)
}

// All yields every cell with its index, in order; nothing for nil.
func (s *Cells) All() iter.Seq2[int, Cell] {
	return func(yield func(int, Cell) bool) {
		for i := range s.Len() {
			if !yield(i, s.At(i)) {
				return
			}
		}
	}
}

// Keep keeps, in order, the cells keep is true for, and drops the others.
func (s *Cells) Keep(keep func(i int) bool) {
	out := s.rows[:0]
	for i := range s.rows {
		if keep(i) {
			out = append(out, s.rows[i])
		}
	}
	clear(s.rows[len(out):])
	s.rows = out
}

// Slice returns every cell as a slice (for tests and small runs: it
// holds each cell whole).
func (s *Cells) Slice() []Cell {
	out := make([]Cell, 0, s.Len())
	for _, c := range s.All() {
		out = append(out, c)
	}
	return out
}

func (s *Cells) set(i int, c *Cell) {
	if s.index == nil { // a zero Cells
		s.texts, s.index = []string{""}, map[string]uint32{}
	}
	r := &s.rows[i]
	old, extra := *r, r.extra
	*r = cellRow{
		method: s.text(c.Method), url: s.many(i, recentURL, c.URL, old.url), role: s.text(c.Role),
		location: s.text(c.Location), class: s.text(string(c.Class)), why: s.text(c.Why),
		contentType: s.text(c.ContentType), digest: s.many(i, recentDigest, c.BodySHA256, old.digest), excerpt: s.many(i, recentExcerpt, c.Excerpt, old.excerpt),
		err: s.text(c.Err), session: s.text(c.Session), digestNoIDs: s.many(i, recentDigestNoIDs, c.BodySHA256WithoutIDs, old.digestNoIDs),
		canaryOf: s.many(i, recentCanaryOf, c.CanaryOf, old.canaryOf), template: s.many(i, recentTemplate, c.Template, old.template), expected: s.text(c.Expected),
		rule: s.many(i, recentRule, c.Rule, old.rule), verdict: s.text(string(c.Verdict)),
		status: int32(c.Status), truncated: c.Truncated, wwwAuth: c.WWWAuth,
		size: c.Size, latency: c.Latency,
	}
	alike := c.Chain == nil && c.BodyChecks == nil && c.Missing != nil && *c.Missing == (MissingBody{})
	if alike || c.Chain == nil && c.Missing == nil && c.BodyChecks == nil {
		if extra != 0 && extra != missingAlike {
			s.extras[extra] = cellExtra{} // its index is not used again; what it held goes
		}
		if alike {
			r.extra = missingAlike
		}
		return
	}
	if extra == 0 || extra == missingAlike {
		if len(s.extras) == 0 {
			s.extras = append(s.extras, cellExtra{})
		}
		extra = uint32(len(s.extras))
		s.extras = append(s.extras, cellExtra{})
	}
	r.extra = extra
	s.extras[extra] = cellExtra{chain: c.Chain, missing: c.Missing, bodyChecks: c.BodyChecks}
}

// many is the index in s.texts of v, a text of kind, of many values, for
// cell i: the cell's own (old), when the cell is set again with it, a
// neighbour's (the other roles of an endpoint are the cells next to it,
// whatever order they are set in), one of the last few of its kind, or
// added.
func (s *Cells) many(i, kind int, v string, old uint32) uint32 {
	if v == "" {
		return 0
	}
	if old != 0 && s.texts[old] == v {
		return old
	}
	for d := 1; d <= nNeighbours; d++ {
		if j := i - d; j >= 0 {
			if k := s.rows[j].many(kind); k != 0 && s.texts[k] == v {
				return k
			}
		}
		if j := i + d; j < len(s.rows) {
			if k := s.rows[j].many(kind); k != 0 && s.texts[k] == v {
				return k
			}
		}
	}
	r := &s.recent[kind]
	for _, k := range r {
		if k != 0 && s.texts[k] == v {
			return k
		}
	}
	k := uint32(len(s.texts))
	s.texts = append(s.texts, v)
	copy(r[1:], r[:len(r)-1])
	r[0] = k
	return k
}

// text is the index of v in s.texts, added if new.
func (s *Cells) text(v string) uint32 {
	if v == "" {
		return 0
	}
	if k, ok := s.index[v]; ok {
		return k
	}
	k := uint32(len(s.texts))
	s.texts = append(s.texts, v)
	s.index[v] = k
	return k
}

// MarshalJSON writes the cells as a JSON list of Cell, as encoding/json
// writes a []Cell (WriteRun writes a run's cells its own way).
func (s *Cells) MarshalJSON() ([]byte, error) {
	if s == nil {
		return []byte("null"), nil
	}
	return json.Marshal(s.Slice())
}

// UnmarshalJSON reads a JSON list of Cell.
func (s *Cells) UnmarshalJSON(b []byte) error {
	var cs []Cell
	if err := json.Unmarshal(b, &cs); err != nil {
		return err
	}
	*s = Cells{rows: make([]cellRow, len(cs)), texts: []string{""}, index: map[string]uint32{}}
	for i := range cs {
		s.set(i, &cs[i])
	}
	return nil
}

// Equal reports whether s and t hold the same cells in the same order
// (reflect.DeepEqual of each; a nil Cells equals only an empty one).
func (s *Cells) Equal(t *Cells) bool {
	if s.Len() != t.Len() {
		return false
	}
	for i := range s.Len() {
		if !reflect.DeepEqual(s.At(i), t.At(i)) {
			return false
		}
	}
	return true
}
