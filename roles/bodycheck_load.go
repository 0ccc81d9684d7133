package roles

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/permaudit/permaudit/internal/yamlwalk"
)

// bodyCheckFields are the keys of one body check.
var bodyCheckFields = []string{"path", "equals", "not_equals", "contains", "not_contains", "roles"}

// bodyChecks reads a matrix rule's "body": a list of checks, each a
// mapping with one operator. It runs after the rule's allow list is read,
// which the checks' roles must be in. It reports whether every check was
// valid.
func (w *walker) bodyChecks(n *yaml.Node, path string, c *Config, r *Rule) bool {
	items := w.List(n, path)
	if len(items) == 0 {
		w.Errorf(n, path, "empty: give at least one check, or leave body out")
		return false
	}
	ok := true
	for _, it := range items {
		chk, good := w.bodyCheck(it, c, r)
		if good {
			r.Body = append(r.Body, chk)
		}
		ok = ok && good
	}
	return ok
}

func (w *walker) bodyCheck(it yamlwalk.Item, c *Config, r *Rule) (BodyCheck, bool) {
	chk := BodyCheck{Line: it.N.Line}
	if it.N.Kind != yaml.MappingNode {
		w.Errorf(it.N, it.Path, "a body check must be a mapping such as {path: totalItems, equals: 0} or {contains: \"text\"}")
		return chk, false
	}
	// Known, not Fields: "equals: null" is a value, not an absent key.
	vals := map[string]*yaml.Node{}
	keys := map[string]*yaml.Node{}
	errs := len(w.Errs)
	for _, e := range w.Known(it.N, it.Path, bodyCheckFields...) {
		vals[e.Name], keys[e.Name] = yamlwalk.Deref(e.Val), e.Key
	}
	ok := len(w.Errs) == errs // a bad key: no "no operator" on top
	var ops []string
	for _, op := range []BodyOp{OpEquals, OpNotEquals, OpContains, OpNotContains} {
		if vals[string(op)] != nil {
			ops = append(ops, string(op))
		}
	}
	switch len(ops) {
	case 0:
		if ok {
			w.Errorf(it.N, it.Path, "no operator: give one of equals, not_equals, contains, not_contains")
		}
		return chk, false
	case 1:
		chk.Op = BodyOp(ops[0])
	default:
		w.Errorf(keys[ops[1]], join(it.Path, ops[1]), "one operator per check, not %s", strings.Join(ops, " and "))
		return chk, false
	}
	opPath := join(it.Path, string(chk.Op))
	pn := vals["path"]
	switch chk.Op {
	case OpEquals, OpNotEquals:
		if yamlwalk.IsNull(pn) {
			w.Errorf(it.N, join(it.Path, "path"), "required with %s: a JSON path such as items[*].owner", chk.Op)
			ok = false
			break
		}
		s, good := w.Str(pn, join(it.Path, "path"))
		if !good {
			ok = false
			break
		}
		steps, err := ParseJSONPath(s)
		if err != nil {
			w.Errorf(pn, join(it.Path, "path"), "%v", err)
			ok = false
			break
		}
		chk.Path, chk.Steps = strings.TrimSpace(s), steps
	default:
		if pn != nil {
			w.Errorf(keys["path"], join(it.Path, "path"), "%s looks at the whole body and takes no path; compare a value at a path with equals", chk.Op)
			ok = false
		}
	}
	v, good := w.bodyValue(vals[string(chk.Op)], opPath, chk.Op)
	ok = ok && good
	chk.Value = v
	if good && v.Kind == StringValue {
		var refs []string
		for _, m := range varRefRE.FindAllStringSubmatch(v.Text, -1) {
			refs = append(refs, m[1]+"."+m[2])
		}
		ok = w.checkRefs(yamlwalk.Item{N: vals[string(chk.Op)], Path: opPath}, refs, c) && ok
	}
	if rn := vals["roles"]; !yamlwalk.IsNull(rn) {
		chk.Roles = []string{}
		for _, rit := range w.List(rn, join(it.Path, "roles")) {
			s, good := w.Str(rit.N, rit.Path)
			switch {
			case !good:
				ok = false
			case c.Role(s) == nil:
				w.Errorf(rit.N, rit.Path, "unknown role %q (roles: %s)", s, strings.Join(c.RoleNames(), ", "))
				ok = false
			case !c.Allows(r.Allow, s):
				w.Errorf(rit.N, rit.Path, "role %s is not allowed by this rule, so its body is never checked", s)
				ok = false
			default:
				chk.Roles = append(chk.Roles, s)
			}
		}
		if len(chk.Roles) == 0 && ok {
			w.Errorf(rn, join(it.Path, "roles"), "empty: leave roles out to check every role the rule allows")
			ok = false
		}
	} else if ok && !anyAllowed(c, r.Allow) {
		w.Errorf(it.N, it.Path, "the rule allows no role, so its body is never checked")
		ok = false
	}
	return chk, ok
}

// bodyValue reads the value of an operator: a scalar whose YAML type is
// its JSON type (0 a number, "0" a string, true, null). contains and
// not_contains take non-empty text.
func (w *walker) bodyValue(n *yaml.Node, path string, op BodyOp) (BodyValue, bool) {
	n = yamlwalk.Deref(n)
	if n == nil || n.Kind != yaml.ScalarNode {
		w.Errorf(n, path, "must be a string, number, true, false or null, not %s", yamlwalk.KindName(n))
		return BodyValue{}, false
	}
	if op == OpContains || op == OpNotContains {
		if n.Tag == "!!null" {
			w.Errorf(n, path, "must be the text to look for, not null")
			return BodyValue{}, false
		}
		s, ok := w.Str(n, path)
		if ok && s == "" {
			w.Errorf(n, path, "empty: every body holds the empty text")
			ok = false
		}
		return stringValue(s, n.Value), ok
	}
	switch n.Tag {
	case "!!null":
		return BodyValue{Kind: NullValue, Text: "null"}, true
	case "!!bool":
		var b bool
		if err := n.Decode(&b); err != nil {
			w.Errorf(n, path, "invalid boolean %q", n.Value)
			return BodyValue{}, false
		}
		return BodyValue{Kind: BoolValue, Text: strconv.FormatBool(b)}, true
	case "!!int", "!!float":
		if !jsonNumberRE.MatchString(n.Value) {
			w.Errorf(n, path, "number %q: write it as JSON does (0, -2, 1.5, 1e3), or quote it to compare it as text", n.Value)
			return BodyValue{}, false
		}
		return BodyValue{Kind: NumberValue, Text: n.Value}, true
	}
	s, ok := w.Str(n, path)
	return stringValue(s, n.Value), ok
}

// stringValue keeps the text as written when ${NAME} was expanded in it.
func stringValue(expanded, written string) BodyValue {
	v := BodyValue{Kind: StringValue, Text: expanded}
	if written != expanded {
		v.Raw = written
	}
	return v
}

// jsonNumberRE is a JSON number literal (RFC 8259).
var jsonNumberRE = regexp.MustCompile(`^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$`)

// anyAllowed reports whether allow admits any configured role.
func anyAllowed(c *Config, allow []string) bool {
	for _, r := range c.Roles {
		if c.Allows(allow, r.Name) {
			return true
		}
	}
	return false
}

// bodyCanonical renders a rule's body checks for the fingerprint.
func bodyCanonical(b *strings.Builder, p string, checks []BodyCheck, val func(path, v string), list func(path string, vs []string)) {
	fmt.Fprintf(b, "%s#=%d\n", join(p, "body"), len(checks))
	for i, chk := range checks {
		cp := fmt.Sprintf("%s.body[%d]", p, i)
		val(join(cp, "path"), chk.Path)
		val(join(cp, string(chk.Op)), string(chk.Value.Kind)+":"+chk.Value.Text)
		if chk.Roles != nil {
			list(join(cp, "roles"), chk.Roles)
		}
	}
}
