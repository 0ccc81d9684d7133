// Package yamlwalk is the one YAML walker of permaudit's loaders: the
// configuration (roles.Parse) and the baseline (report.ParseBaseline).
//
// A loader decodes its file with Walker.Decode into a yaml.Node tree and
// walks that tree in a second pass with the Walker's helpers, so that
// every problem carries file:line:col and the dotted field path
// ("roles.admin.login.bearer", "matrix.rules[0].allow[1]"), unknown fields
// are errors, and every problem is collected rather than the first
// returned (STYLE.md, practice 7). Custom UnmarshalYAML methods would lose
// yaml.v3's strict field checks; a walk over the node keeps them.
//
// Aliases: yaml.v3 bounds alias expansion only when it decodes into Go
// values, and a walk over the nodes expands aliases itself, so nested
// aliases ("billion laughs") could make a few hundred bytes walk like a
// billion nodes. Decode therefore measures, before any walk, how many nodes
// a full expansion of the document visits through aliases, and refuses a
// document over MaxAliasNodes of its size (and one whose alias lies inside
// the value it names) with a positioned error. A walk over a tree that
// Decode accepted is bounded by that expansion, whatever it follows.
//
// Size: a document may hold MaxBytes (64 MiB); ReadFile refuses a larger
// file before reading it, and Decode a larger document.
//
// Syntax errors: yaml.v3 places an indentation error where the enclosing
// block starts; Decode parses the document again with go.yaml.in/yaml/v4
// for the real line and column of the message.
//
// The package knows YAML, not any format: what a field means, and every
// message about a value's meaning, stays with the loader.
package yamlwalk
