package model

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"reflect"
	"strings"
)

// WriteRun writes r as the run JSON of SchemaVersion (docs/run-schema.md),
// as a stream: one top-level field per line, and each element of a long
// list (observations, inventory entries, findings, notes, canaries) on a
// line of its own, each encoded on its own. Nothing holds the whole
// document: memory stays that of one element, whatever the number of
// cells. The schema written is always SchemaVersion, whatever r.Schema
// says (a run read from a v1 file is written as v2).
//
// What v2 leaves out of a cell (docs/run-schema.md, "Changes from v1"):
// the excerpt of a pass cell, the digest without ids when it equals the
// body's digest, and the rule's name, which a cell gives as its index in
// the run's rules table. A cell citing a rule the table lacks (a run made
// before rules were recorded) gets an entry of its own at the end of the
// table, with index -1 and only its name.
func WriteRun(w io.Writer, r *Run) error {
	e := newRunEncoder(w)
	e.rules = rulesTable(r)
	e.ruleAt = make(map[string]int, len(e.rules))
	for i, ri := range e.rules {
		if _, dup := e.ruleAt[ri.Name]; !dup {
			e.ruleAt[ri.Name] = i
		}
	}
	out := *r // a shallow copy: the schema and rules written are v2's
	out.Schema = SchemaVersion
	out.Rules = e.rules
	if err := e.document(reflect.ValueOf(out)); err != nil {
		return fmt.Errorf("write run json: %w", err)
	}
	return nil
}

// WriteInventory writes f, the inventory file of `permaudit discover
// --out` (InventorySchema), as WriteRun writes a run: a stream, one
// endpoint, skip or left group per line, whatever the inventory's size.
// f.Schema is written as InventorySchema.
func WriteInventory(w io.Writer, f *InventoryFile) error {
	out := *f
	out.Schema = InventorySchema
	if err := newRunEncoder(w).document(reflect.ValueOf(out)); err != nil {
		return fmt.Errorf("write inventory: %w", err)
	}
	return nil
}

func newRunEncoder(w io.Writer) *runEncoder {
	e := &runEncoder{w: bufio.NewWriterSize(w, 64<<10)}
	e.enc = json.NewEncoder(&e.buf)
	e.enc.SetEscapeHTML(false)
	return e
}

// document writes struct v, the whole document, and flushes.
func (e *runEncoder) document(v reflect.Value) error {
	e.object(v, "")
	e.w.WriteString("\n")
	if e.err == nil {
		e.err = e.w.Flush()
	}
	return e.err
}

// rulesTable is r.Rules, then an entry for each rule name a cell cites
// that r.Rules lacks, in the order of first citation.
func rulesTable(r *Run) []RuleInfo {
	known := make(map[string]bool, len(r.Rules))
	for _, ri := range r.Rules {
		known[ri.Name] = true
	}
	table := r.Rules
	for _, c := range r.Observations.All() {
		name := c.Rule
		if name == "" || known[name] {
			continue
		}
		known[name] = true
		if len(table) == len(r.Rules) {
			table = append([]RuleInfo(nil), r.Rules...)
		}
		table = append(table, RuleInfo{Index: -1, Name: name})
	}
	return table
}

// cellV2 is a cell as v2 writes it: the rule as an index into the rules
// table.
type cellV2 struct {
	Observation
	Template string  `json:"template"`
	Expected string  `json:"expected"`
	Rule     *int    `json:"rule,omitempty"` // nil: no rule decided it (a URL that cannot be parsed)
	Verdict  Verdict `json:"verdict"`
}

// v2Observation is o as v2 writes it: one digest when the two are equal.
func v2Observation(o Observation) Observation {
	if o.BodySHA256WithoutIDs == o.BodySHA256 {
		o.BodySHA256WithoutIDs = ""
	}
	return o
}

type runEncoder struct {
	w      *bufio.Writer
	buf    bytes.Buffer
	enc    *json.Encoder
	err    error
	rules  []RuleInfo
	ruleAt map[string]int
}

// expanded are the struct types whose fields go one per line, so that
// their long lists do too.
var expanded = map[reflect.Type]bool{
	reflect.TypeFor[Run]():       true,
	reflect.TypeFor[Inventory](): true,
	reflect.TypeFor[Coverage]():  true,
}

// object writes struct v with one field per line, indented by indent
// plus two spaces, in field order and with encoding/json's names,
// omitempty and omitzero.
func (e *runEncoder) object(v reflect.Value, indent string) {
	t := v.Type()
	inner := indent + "  "
	e.w.WriteString("{")
	first := true
	for i := 0; i < t.NumField() && e.err == nil; i++ {
		f := t.Field(i)
		name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		fv := v.Field(i)
		if omitted(fv, opts) {
			continue
		}
		if !first {
			e.w.WriteString(",")
		}
		first = false
		e.w.WriteString("\n" + inner)
		e.compact(name)
		e.w.WriteString(": ")
		e.value(fv, inner)
	}
	if !first {
		e.w.WriteString("\n" + indent)
	}
	e.w.WriteString("}")
}

// omitted says whether encoding/json would leave field v out.
func omitted(v reflect.Value, opts string) bool {
	for o := range strings.SplitSeq(opts, ",") {
		switch o {
		case "omitzero":
			if v.IsZero() {
				return true
			}
		case "omitempty":
			switch v.Kind() {
			case reflect.Slice, reflect.Map, reflect.String, reflect.Array:
				if v.Len() == 0 {
					return true
				}
			case reflect.Bool, reflect.Int, reflect.Int64, reflect.Float64, reflect.Pointer, reflect.Interface:
				if v.IsZero() {
					return true
				}
			}
		}
	}
	return false
}

// value writes a field's value: an expanded struct field by field, a
// list one element per line, anything else compact on the field's line.
func (e *runEncoder) value(v reflect.Value, indent string) {
	if v.Kind() == reflect.Pointer && !v.IsNil() && expanded[v.Elem().Type()] {
		v = v.Elem()
	}
	switch {
	case expanded[v.Type()]:
		e.object(v, indent)
	case v.Type() == reflect.TypeFor[*Cells]():
		e.cells(v.Interface().(*Cells), indent)
	case v.Kind() == reflect.Slice && !v.IsNil() && v.Type().Elem().Kind() == reflect.Struct && v.Len() > 0:
		e.w.WriteString("[")
		for i := 0; i < v.Len() && e.err == nil; i++ {
			if i > 0 {
				e.w.WriteString(",")
			}
			e.w.WriteString("\n" + indent + "  ")
			switch el := v.Index(i).Addr().Interface().(type) {
			case *Observation:
				e.compact(v2Observation(*el))
			default:
				e.compact(el)
			}
		}
		e.w.WriteString("\n" + indent + "]")
	default:
		e.compact(v.Interface())
	}
}

// cells writes a run's cells as v2 does, one per line.
func (e *runEncoder) cells(s *Cells, indent string) {
	if s == nil {
		e.w.WriteString("null")
		return
	}
	e.w.WriteString("[")
	for i, c := range s.All() {
		if e.err != nil {
			return
		}
		if i > 0 {
			e.w.WriteString(",")
		}
		e.w.WriteString("\n" + indent + "  ")
		e.cell(&c)
	}
	if s.Len() > 0 {
		e.w.WriteString("\n" + indent)
	}
	e.w.WriteString("]")
}

// cell writes c as v2 does.
func (e *runEncoder) cell(c *Cell) {
	out := cellV2{Observation: v2Observation(c.Observation), Template: c.Template, Expected: c.Expected, Verdict: c.Verdict}
	if c.Verdict == Pass {
		out.Excerpt = ""
	}
	if c.Rule != "" {
		k := e.ruleAt[c.Rule]
		out.Rule = &k
	}
	e.compact(&out)
}

// compact writes v as compact JSON, HTML characters unescaped.
func (e *runEncoder) compact(v any) {
	if e.err != nil {
		return
	}
	e.buf.Reset()
	if err := e.enc.Encode(v); err != nil {
		e.err = err
		return
	}
	b := e.buf.Bytes()
	_, e.err = e.w.Write(b[:len(b)-1]) // Encode's newline
}
