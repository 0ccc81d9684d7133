package model

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"time"
)

// InventorySchema names the inventory file `permaudit discover` writes
// (docs/run-schema.md, "Inventory file").
const InventorySchema = "permaudit.inventory/v1"

// Shard says which slice of a saved inventory a run probed
// (permaudit audit --shard K/N): the templates assigned to shard Index of
// Count. A shard run never gates on its own; permaudit report merge joins
// the Count shard runs into the run an unsharded audit would have made.
type Shard struct {
	Index int `json:"index"` // K, from 1
	Count int `json:"count"` // N
	// Templates and Endpoints count the slice this shard probed.
	Templates int `json:"templates"`
	Endpoints int `json:"endpoints"`
}

func (s Shard) String() string { return fmt.Sprintf("%d/%d", s.Index, s.Count) }

// MergedShard records one shard run a merged run was made of.
type MergedShard struct {
	Shard
	File       string        `json:"file,omitempty"` // as given to merge
	RunID      string        `json:"run_id"`
	Started    time.Time     `json:"started"`
	Duration   time.Duration `json:"duration_ns"`
	Complete   bool          `json:"complete"`
	Incomplete string        `json:"incomplete_reason,omitempty"`
}

// InventoryFile is what `permaudit discover --out FILE` writes, and what
// `permaudit audit --inventory FILE` reads: the inventory, and what it was
// discovered with. A run JSON has the same fields, so the inventory of a
// previous run is read the same way.
type InventoryFile struct {
	Schema            string    `json:"schema"`
	Tool              Tool      `json:"tool"`
	RunID             string    `json:"run_id"`
	Target            string    `json:"target"`
	Started           time.Time `json:"started"`
	Finished          time.Time `json:"finished"`
	ConfigFile        string    `json:"config_file,omitempty"`
	ConfigFingerprint string    `json:"config_fingerprint"`
	// Complete is false when discovery was cut short (a signal, the
	// maximum duration); every audit of this inventory is then incomplete.
	// A cap of discovery (max_requests) is recorded in Inventory.Cut.
	Complete   bool      `json:"complete"`
	Incomplete string    `json:"incomplete_reason,omitempty"`
	Inventory  Inventory `json:"inventory"`
}

// ReadInventory reads an inventory file, or the inventory of a run JSON
// (permaudit.run/...). Nothing else is kept of a run, and nothing else
// is held while reading it: a run's observations are passed over one
// cell at a time, as ReadRun decodes them.
func ReadInventory(r io.Reader) (*InventoryFile, error) {
	dec := json.NewDecoder(bufio.NewReaderSize(r, 64<<10))
	var f InventoryFile
	if err := readInventory(dec, &f); err != nil {
		return nil, fmt.Errorf("read inventory: not a permaudit inventory or run JSON: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("read inventory: data after the JSON object")
	}
	switch {
	case f.Schema == InventorySchema:
	case strings.HasPrefix(f.Schema, "permaudit.run/"):
		// A run is complete only if everything it did was; a run cut
		// short may have been cut during discovery.
		if !f.Complete && f.Incomplete == "" {
			f.Incomplete = "the run was incomplete"
		}
	case f.Schema == "":
		return nil, fmt.Errorf(`read inventory: no "schema" field; want a file of permaudit discover --out (%s) or a run JSON`, InventorySchema)
	default:
		return nil, fmt.Errorf("read inventory: unsupported schema %q; this permaudit reads %s and run JSON", f.Schema, InventorySchema)
	}
	if f.Target == "" {
		return nil, errors.New(`read inventory: no "target": the file does not say what it was discovered on`)
	}
	return &f, nil
}

// inventoryFields maps each JSON name of InventoryFile to its field's
// index.
var inventoryFields = jsonFields(reflect.TypeFor[InventoryFile]())

// readInventory decodes the object dec starts with into f, field by
// field; a field f does not have is passed over, a list an element at a
// time.
func readInventory(dec *json.Decoder, f *InventoryFile) error {
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return fmt.Errorf("want an object, got %v", describeTok(tok, err))
	}
	fv := reflect.ValueOf(f).Elem()
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		key, _ := tok.(string)
		if err := decodeField(dec, fv, inventoryFields, key); err != nil {
			return fmt.Errorf("%s: %w", key, err)
		}
	}
	_, err := dec.Token()
	return err
}

// skipValue reads the value dec is at and keeps none of it: a list an
// element at a time, an object a field at a time.
func skipValue(dec *json.Decoder) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	switch tok {
	case json.Delim('['):
		for dec.More() {
			var el json.RawMessage
			if err := dec.Decode(&el); err != nil {
				return err
			}
		}
		_, err = dec.Token()
	case json.Delim('{'):
		for dec.More() {
			if _, err := dec.Token(); err != nil { // the key
				return err
			}
			if err := skipValue(dec); err != nil {
				return err
			}
		}
		_, err = dec.Token()
	}
	return err
}

// InventoryDigest identifies an inventory: the SHA-256 of its JSON
// encoding. Shard runs of the same inventory carry the same digest, so
// merge can tell they probed slices of one whole.
func InventoryDigest(inv *Inventory) string {
	data, err := json.Marshal(inv)
	if err != nil { // an Inventory always encodes
		panic(err)
	}
	sum := sha256.Sum256(data)
	return "sha256:" + hex.EncodeToString(sum[:])
}
