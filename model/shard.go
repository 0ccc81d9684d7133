package model

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
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
// (permaudit.run/...). Nothing else is kept of a run.
func ReadInventory(r io.Reader) (*InventoryFile, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("read inventory: %w", err)
	}
	var f InventoryFile
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&f); err != nil {
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
