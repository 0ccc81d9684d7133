package yamlwalk

import (
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Deref follows n's alias to the node it names. An anchor never names an
// alias, so one step is enough; Decode has refused aliases that would
// expand without end.
func Deref(n *yaml.Node) *yaml.Node {
	if n != nil && n.Kind == yaml.AliasNode {
		return n.Alias
	}
	return n
}

// IsNull reports whether n is absent or null (~, null, or no value).
func IsNull(n *yaml.Node) bool {
	n = Deref(n)
	return n == nil || n.Kind == yaml.ScalarNode && n.Tag == "!!null"
}

// KindName names what n is, for messages: "a mapping", "a list", "a
// scalar", "null".
func KindName(n *yaml.Node) string {
	n = Deref(n)
	if n == nil {
		return "null"
	}
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "null"
		}
		return "a scalar"
	}
	return "empty"
}

// Join adds key to the field path: Join("roles.admin", "login") is
// "roles.admin.login", Join("", "target") is "target".
func Join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// Index is the field path of item i of the list at path:
// Index("matrix.rules", 0) is "matrix.rules[0]".
func Index(path string, i int) string {
	return path + "[" + strconv.Itoa(i) + "]"
}

// Entry is one key and value of a mapping, as written: Val may be an
// alias or null.
type Entry struct {
	Key, Val *yaml.Node
	Name     string // the key's text
}

// Entries returns the pairs of mapping n in order, reporting keys that
// are not strings, merge keys (<<) and duplicates, which it leaves out. A
// null n is an empty mapping.
func (w *Walker) Entries(n *yaml.Node, path string) []Entry {
	n = Deref(n)
	if IsNull(n) {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		w.Errorf(n, path, "must be a mapping, not %s", KindName(n))
		return nil
	}
	var out []Entry
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := Deref(n.Content[i]), n.Content[i+1]
		if k == nil || k.Kind != yaml.ScalarNode {
			w.Errorf(n.Content[i], path, "a key must be a string")
			continue
		}
		if k.Tag == "!!merge" {
			w.Errorf(k, path, "merge keys (<<) are not supported")
			continue
		}
		if seen[k.Value] {
			w.Errorf(k, Join(path, k.Value), "duplicate field")
			continue
		}
		seen[k.Value] = true
		out = append(out, Entry{Key: k, Val: v, Name: k.Value})
	}
	return out
}

// Known is Entries for a mapping whose keys are the known ones: an
// unknown key is reported, naming them, and left out. Null values are
// kept, for a format in which null means something.
func (w *Walker) Known(n *yaml.Node, path string, known ...string) []Entry {
	var out []Entry
	for _, e := range w.Entries(n, path) {
		if !slices.Contains(known, e.Name) {
			w.Errorf(e.Key, Join(path, e.Name), "unknown field (known: %s)", strings.Join(known, ", "))
			continue
		}
		out = append(out, e)
	}
	return out
}

// Fields returns the values of mapping n by key, aliases followed, after
// Known. A null value is left out, as if the key were absent.
func (w *Walker) Fields(n *yaml.Node, path string, known ...string) map[string]*yaml.Node {
	out := map[string]*yaml.Node{}
	for _, e := range w.Known(n, path, known...) {
		if !IsNull(e.Val) {
			out[e.Name] = Deref(e.Val)
		}
	}
	return out
}

// Item is an element of a list (or a lone scalar written in its place),
// aliases followed, with its field path.
type Item struct {
	N    *yaml.Node
	Path string
}

// List returns the items of list n; a scalar is a list of one, at path
// itself, and null an empty list.
func (w *Walker) List(n *yaml.Node, path string) []Item {
	n = Deref(n)
	switch {
	case IsNull(n):
		return nil
	case n.Kind == yaml.ScalarNode:
		return []Item{{n, path}}
	case n.Kind != yaml.SequenceNode:
		w.Errorf(n, path, "must be a list, not %s", KindName(n))
		return nil
	}
	out := make([]Item, 0, len(n.Content))
	for i, c := range n.Content {
		out = append(out, Item{Deref(c), Index(path, i)})
	}
	return out
}
