package model

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strconv"
	"strings"
)

// SchemaV1 is the run JSON's first version, which ReadRun still reads:
// each cell copies its rule's name and every digest and excerpt
// (docs/run-schema.md, "Changes from v1").
const SchemaV1 = "permaudit.run/v1"

// ReadRun decodes a run JSON of SchemaVersion or SchemaV1, as a stream:
// the observations are decoded one by one, so that memory holds the run,
// not its text too. A run of another version is refused with the version
// it has and those this permaudit reads; the schema field is the first
// written, so nothing else is read first. Unknown fields are ignored:
// within one schema version fields are only ever added
// (docs/run-schema.md).
//
// A v1 cell's rule name and a v2 cell's index into the rules table both
// become Cell.Rule; cells of one rule share one string (Cells holds each
// role, method and other text of few values once itself).
func ReadRun(r io.Reader) (*Run, error) {
	dec := json.NewDecoder(bufio.NewReaderSize(r, 64<<10))
	var run Run
	if err := readRun(dec, &run); err != nil {
		return nil, fmt.Errorf("read run: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("read run: data after the run JSON object")
	}
	return &run, nil
}

// runFields maps each JSON name of Run to its field's index.
var runFields = jsonFields(reflect.TypeFor[Run]())

// decodeField decodes the value dec is at into the field of struct v
// that fields maps key to, or passes over it (skipValue) when v has no
// such field: within a schema version, fields are only ever added.
func decodeField(dec *json.Decoder, v reflect.Value, fields map[string]int, key string) error {
	i, known := fields[key]
	if !known {
		return skipValue(dec)
	}
	return dec.Decode(v.Field(i).Addr().Interface())
}

// jsonFields maps the JSON name of each field of struct type t that has
// one to the field's index.
func jsonFields(t reflect.Type) map[string]int {
	m := map[string]int{}
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		if name != "" && name != "-" {
			m[name] = i
		}
	}
	return m
}

// cellIn is a cell as v1 or v2 writes it.
type cellIn struct {
	Observation
	Template string  `json:"template"`
	Expected string  `json:"expected"`
	Rule     ruleRef `json:"rule"`
	Verdict  Verdict `json:"verdict"`
}

// ruleRef is a cell's rule: a name (v1) or an index into the rules table
// (v2).
type ruleRef struct {
	name  string
	index int // -1 when none
}

func (r *ruleRef) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		r.index = -1
		return json.Unmarshal(b, &r.name)
	}
	if string(b) == "null" {
		r.index = -1
		return nil
	}
	n, err := strconv.Atoi(string(b))
	if err != nil || n < 0 {
		return fmt.Errorf("cell rule %s: want a rule's name (v1) or its index in rules (v2)", b)
	}
	r.index = n
	return nil
}

func readRun(dec *json.Decoder, run *Run) error {
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return fmt.Errorf("not a permaudit run JSON: want an object, got %v", describeTok(tok, err))
	}
	rv := reflect.ValueOf(run).Elem()
	var (
		sawSchema bool
		refs      []int // v2: each cell's index into rules, -1 for none
		intern    = map[string]string{}
	)
	share := func(s string) string {
		if v, ok := intern[s]; ok {
			return v
		}
		intern[s] = s
		return s
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return fmt.Errorf("not a permaudit run JSON: %w", err)
		}
		key, _ := tok.(string)
		switch key {
		case "schema":
			if err := dec.Decode(&run.Schema); err != nil {
				return fmt.Errorf("not a permaudit run JSON: schema: %w", err)
			}
			if run.Schema != SchemaVersion && run.Schema != SchemaV1 {
				return fmt.Errorf("unsupported schema %q; this permaudit reads %s and %s", run.Schema, SchemaVersion, SchemaV1)
			}
			sawSchema = true
			continue
		case "observations":
			if tok, err := dec.Token(); err != nil || (tok != json.Delim('[') && tok != nil) {
				return fmt.Errorf("decode %s: observations: want a list, got %v", run.Schema, describeTok(tok, err))
			} else if tok == nil {
				run.Observations = nil
				continue
			}
			run.Observations = NewCells(0)
			for dec.More() {
				var c cellIn
				c.Rule.index = -1
				if err := dec.Decode(&c); err != nil {
					return fmt.Errorf("decode %s: observations[%d]: %w", run.Schema, run.Observations.Len(), err)
				}
				if c.Rule.name != "" {
					c.Rule.name = share(c.Rule.name)
				}
				run.Observations.Append(Cell{Observation: c.Observation, Template: c.Template, Expected: c.Expected, Rule: c.Rule.name, Verdict: c.Verdict})
				refs = append(refs, c.Rule.index)
			}
			if _, err := dec.Token(); err != nil {
				return fmt.Errorf("decode %s: observations: %w", run.Schema, err)
			}
			continue
		}
		if err := decodeField(dec, rv, runFields, key); err != nil {
			return fmt.Errorf("decode %s: %s: %w", nonEmptySchema(run.Schema), key, err)
		}
	}
	if _, err := dec.Token(); err != nil {
		return fmt.Errorf("decode %s: %w", nonEmptySchema(run.Schema), err)
	}
	if !sawSchema {
		return fmt.Errorf(`no "schema" field, so not a permaudit run; supported schemas: %s, %s`, SchemaVersion, SchemaV1)
	}
	// v2 cells cite their rule by index; names are shared with the table.
	for k, ri := range refs {
		if ri < 0 {
			continue
		}
		if ri >= len(run.Rules) {
			return fmt.Errorf("decode %s: observations[%d]: rule %d, but rules has %d entries", run.Schema, k, ri, len(run.Rules))
		}
		c := run.Observations.At(k)
		c.Rule = run.Rules[ri].Name
		run.Observations.Set(k, c)
	}
	// A v2 table's entries of index -1 are rules the cells cited that the
	// run had not recorded (WriteRun); they were never in the run's rules.
	if run.Schema == SchemaVersion {
		kept := run.Rules[:0]
		for _, ri := range run.Rules {
			if ri.Index >= 0 {
				kept = append(kept, ri)
			}
		}
		if len(kept) == 0 {
			kept = nil
		}
		run.Rules = kept
	}
	return nil
}

func nonEmptySchema(s string) string {
	if s == "" {
		return "run"
	}
	return s
}

func describeTok(tok json.Token, err error) string {
	if err != nil {
		return err.Error()
	}
	return fmt.Sprintf("%v", tok)
}

// UnmarshalJSON decodes a run JSON of either version as ReadRun does, so
// that encoding/json gives a v2 cell its rule's name too.
func (r *Run) UnmarshalJSON(data []byte) error {
	var run Run
	if err := readRun(json.NewDecoder(bytes.NewReader(data)), &run); err != nil {
		return err
	}
	*r = run
	return nil
}
