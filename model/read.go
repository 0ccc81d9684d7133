package model

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// ReadRun decodes a run JSON. The schema field is checked first, so that a
// run of another version is refused with a clear message instead of being
// half-read. Unknown fields are ignored: within one schema version fields
// are only ever added (docs/run-schema.md).
func ReadRun(r io.Reader) (*Run, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("read run: %w", err)
	}
	var head struct {
		Schema *string `json:"schema"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return nil, fmt.Errorf("read run: not a permaudit run JSON: %w", err)
	}
	switch {
	case head.Schema == nil:
		return nil, fmt.Errorf(`read run: no "schema" field, so not a permaudit run; supported schema: %s`, SchemaVersion)
	case *head.Schema != SchemaVersion:
		return nil, fmt.Errorf("read run: unsupported schema %q; this permaudit reads %s", *head.Schema, SchemaVersion)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	var run Run
	if err := dec.Decode(&run); err != nil {
		return nil, fmt.Errorf("read run: decode %s: %w", SchemaVersion, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("read run: data after the run JSON object")
	}
	return &run, nil
}
