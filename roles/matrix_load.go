package roles

// The denials and matrix sections (docs/config.md, "Expectations and
// denial forms"). A rule's body checks are in bodycheck_load.go.

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"gopkg.in/yaml.v3"

	"github.com/permaudit/permaudit/internal/yamlwalk"
)

func (w *walker) denials(n *yaml.Node) []Denial {
	var out []Denial
	if n == nil {
		return nil
	}
	for _, it := range w.List(n, "denials") {
		if it.N.Kind != yaml.MappingNode {
			w.Errorf(it.N, it.Path, "must be a mapping with body, header, json, title, location, status and/or class")
			continue
		}
		if d, ok := w.denial(it); ok {
			out = append(out, d)
		}
	}
	return out
}

// denial reads one denial signature (docs/config.md, "Denial signatures").
func (w *walker) denial(it yamlwalk.Item) (Denial, bool) {
	f := w.Fields(it.N, it.Path, "class", "body", "header", "status", "json", "equals", "title", "location")
	d := Denial{Class: DenialForbidden}
	ok := true
	if cn := f["class"]; cn != nil {
		s, good := w.Str(cn, join(it.Path, "class"))
		switch s = strings.TrimSpace(s); {
		case !good:
		case s == DenialUnauthenticated, s == DenialForbidden, s == DenialHidden:
			d.Class = s
		default:
			w.Errorf(cn, join(it.Path, "class"), "%q: want unauthenticated, forbidden or hidden", s)
			good = false
		}
		ok = ok && good
	}
	if bn := f["body"]; bn != nil {
		var good bool
		d.Body, good = w.Str(bn, join(it.Path, "body"))
		if good && d.Body == "" {
			w.Errorf(bn, join(it.Path, "body"), "empty: it would match every body")
			good = false
		}
		ok = ok && good
	}
	if hn := f["header"]; hn != nil {
		var good bool
		d.Header, good = w.Str(hn, join(it.Path, "header"))
		if good {
			name, _, _ := strings.Cut(d.Header, ":")
			if !isToken(strings.TrimSpace(name)) {
				w.Errorf(hn, join(it.Path, "header"), "want \"Name\" or \"Name: value substring\"")
				good = false
			}
		}
		ok = ok && good
	}
	if sn := f["status"]; sn != nil {
		v, good := w.Int(sn, join(it.Path, "status"), 100, 599)
		d.Status = int(v)
		ok = ok && good
	}
	if jn := f["json"]; jn != nil {
		s, good := w.Str(jn, join(it.Path, "json"))
		if good {
			steps, err := ParseJSONPath(s)
			if err != nil {
				w.Errorf(jn, join(it.Path, "json"), "%v", err)
				good = false
			}
			d.JSON, d.JSONSteps = strings.TrimSpace(s), steps
		}
		ok = ok && good
	}
	if en := f["equals"]; en != nil {
		v, good := w.bodyValue(en, join(it.Path, "equals"), OpEquals)
		switch {
		case !good:
		case f["json"] == nil:
			w.Errorf(en, join(it.Path, "equals"), "compares the value at a JSON path: give json, such as json: error.code")
			good = false
		case v.Kind == StringValue && varRefRE.MatchString(v.Text):
			w.Errorf(en, join(it.Path, "equals"), "a denial signature is the same for every role: it cannot use role variables")
			good = false
		}
		d.Equals = &v
		ok = ok && good
	}
	if tn := f["title"]; tn != nil {
		s, good := w.Str(tn, join(it.Path, "title"))
		d.Title = strings.Join(strings.Fields(s), " ")
		if good && d.Title == "" {
			w.Errorf(tn, join(it.Path, "title"), "empty: it would match every page")
			good = false
		}
		ok = ok && good
	}
	if ln := f["location"]; ln != nil {
		s, good := w.Str(ln, join(it.Path, "location"))
		if good {
			p, err := parseLocationPattern(s)
			if err != nil {
				w.Errorf(ln, join(it.Path, "location"), "%q: %v", s, err)
				good = false
			}
			d.Location, d.LocationTo = strings.TrimSpace(s), &p
		}
		ok = ok && good
	}
	if f["body"] == nil && f["header"] == nil && f["json"] == nil && f["title"] == nil && f["location"] == nil {
		w.Errorf(it.N, it.Path, "a denial signature needs a body, header, json, title or location (status alone would turn every answer with that status into a denial)")
		ok = false
	}
	return d, ok
}

func (w *walker) matrix(n *yaml.Node, c *Config) Matrix {
	m := Matrix{Default: "deny"}
	if n == nil {
		return m
	}
	f := w.Fields(n, "matrix", "default", "rules")
	if dn := f["default"]; dn != nil {
		if s, ok := w.Str(dn, "matrix.default"); ok {
			if s != "deny" && s != "unmapped" {
				w.Errorf(dn, "matrix.default", "%q: want deny or unmapped", s)
			} else {
				m.Default = s
			}
		}
	}
	rn := f["rules"]
	if rn == nil {
		return m
	}
	if rn.Kind != yaml.SequenceNode {
		w.Errorf(rn, "matrix.rules", "must be a list of rules")
		return m
	}
	m.Rules = make([]Rule, 0, len(rn.Content)) // a rule per endpoint: no 27 MB grown by halves
	named := map[string]int{}                  // rule name to the line of its rule
	// Rules with the same allow list share one: a matrix of a rule per
	// endpoint has a few lists for hundreds of thousands of rules.
	allows := map[string][]string{}
	items := w.List(rn, "matrix.rules")
	for i := range items {
		it := items[i]
		// A rule's nodes go once it is read: a matrix of a rule per
		// endpoint is a tree of 1.3 KB a rule, which held with the rules
		// made loading the audit's largest heap (68 MB live at 40,000
		// rules; the tree alone is 51).
		items[i].N = nil
		if i < len(rn.Content) {
			rn.Content[i] = nil
		}
		if it.N.Kind != yaml.MappingNode {
			w.Errorf(it.N, it.Path, "a rule must be a mapping with match and allow")
			continue
		}
		r := Rule{Index: i + 1, Line: it.N.Line}
		rf := w.Fields(it.N, it.Path, "name", "match", "allow", "deny_as", "body")
		ok := true
		if nn := rf["name"]; nn != nil {
			s, good := w.Str(nn, join(it.Path, "name"))
			s = strings.TrimSpace(s)
			switch {
			case !good:
			case s == "" || strings.ContainsFunc(s, unicode.IsControl):
				w.Errorf(nn, join(it.Path, "name"), "want a name on one line, such as \"admin area\"; leave it out to name the rule by its first pattern")
				good = false
			case named[s] != 0:
				w.Errorf(nn, join(it.Path, "name"), "%q already names the rule at line %d: findings would not tell them apart", s, named[s])
				good = false
			default:
				named[s] = it.N.Line
				r.Label = s
			}
			ok = ok && good
		}
		if mn := rf["match"]; mn != nil {
			items := w.List(mn, join(it.Path, "match"))
			if len(items) == 0 {
				w.Errorf(mn, join(it.Path, "match"), "empty: give at least one pattern")
				ok = false
			}
			for _, pit := range items {
				p, good := w.pattern(pit, c)
				ok = ok && good
				if good {
					r.Match = append(r.Match, p)
				}
			}
		} else {
			w.Errorf(it.N, join(it.Path, "match"), "required: a pattern such as \"GET /admin/**\", or a list of them")
			ok = false
		}
		if an := rf["allow"]; an != nil {
			r.Allow = []string{}
			for _, ait := range w.List(an, join(it.Path, "allow")) {
				s, good := w.Str(ait.N, ait.Path)
				if !good {
					ok = false
					continue
				}
				if s != "*" && c.Role(s) == nil {
					w.Errorf(ait.N, ait.Path, "unknown role %q (roles: %s)", s, strings.Join(c.RoleNames(), ", "))
					ok = false
					continue
				}
				r.Allow = append(r.Allow, s)
			}
			key := strings.Join(r.Allow, "\x00")
			if seen, dup := allows[key]; dup {
				r.Allow = seen
			} else {
				r.Allow = slices.Clip(r.Allow) // shared: no append may write past it
				allows[key] = r.Allow
			}
		} else {
			w.Errorf(it.N, join(it.Path, "allow"), "required: a list of roles, [\"*\"] for every role, or [] for none")
			ok = false
		}
		if dn := rf["deny_as"]; dn != nil {
			ok = w.denyAs(dn, join(it.Path, "deny_as"), c, &r) && ok
		}
		if bn := rf["body"]; bn != nil && r.Allow != nil {
			ok = w.bodyChecks(bn, join(it.Path, "body"), c, &r) && ok
		}
		if ok {
			m.Rules = append(m.Rules, r)
		}
	}
	return m
}

// denyAs reads a rule's deny_as into r: one form, a list of forms, or a
// mapping from role names, and "*" for every role not named, to one form
// or a list (docs/config.md, "Expectations and denial forms"). r.Allow is
// read already.
func (w *walker) denyAs(n *yaml.Node, path string, c *Config, r *Rule) bool {
	if n.Kind != yaml.MappingNode {
		forms, ok := w.denyForms(n, path)
		r.DenyAs = forms
		return ok
	}
	entries := w.Entries(n, path)
	if len(entries) == 0 {
		w.Errorf(n, path, "empty: leave it out for the usual denial forms")
		return false
	}
	ok := true
	for _, e := range entries {
		kp := join(path, e.Name)
		switch {
		case e.Name == "*":
		case c.Role(e.Name) == nil:
			w.Errorf(e.Key, kp, "unknown role %q: a per-role deny_as takes role names (roles: %s), and \"*\" for every other role", e.Name, strings.Join(c.RoleNames(), ", "))
			ok = false
			continue
		case r.Allow != nil && c.Allows(r.Allow, e.Name):
			w.Errorf(e.Key, kp, "the rule allows %q, so a denial form for it never applies; leave the key out", e.Name)
			ok = false
			continue
		}
		forms, good := w.denyForms(yamlwalk.Deref(e.Val), kp)
		if !good {
			ok = false
			continue
		}
		if e.Name == "*" {
			r.DenyAs = forms
			continue
		}
		if r.DenyAsRole == nil {
			r.DenyAsRole = map[string][]DenyForm{}
		}
		r.DenyAsRole[e.Name] = forms
	}
	return ok
}

// denyForms reads one form or a list of forms.
func (w *walker) denyForms(n *yaml.Node, path string) ([]DenyForm, bool) {
	items := w.List(n, path)
	if len(items) == 0 {
		w.Errorf(n, path, "empty: leave it out for the usual denial forms")
		return nil, false
	}
	var forms []DenyForm
	ok := true
	for _, dit := range items {
		s, good := w.Str(dit.N, dit.Path)
		if !good {
			ok = false
			continue
		}
		form, err := parseDenyForm(s)
		if err != nil {
			w.Errorf(dit.N, dit.Path, "%v", err)
			ok = false
			continue
		}
		forms = append(forms, form)
	}
	return forms, ok
}

// parseDenyForm reads a deny_as spelling (see DenyForm).
func parseDenyForm(s string) (DenyForm, error) {
	s = strings.TrimSpace(s)
	switch strings.ToLower(s) {
	case "login", "unauthenticated":
		return DenyForm{Class: "unauthenticated"}, nil
	case "forbidden":
		return DenyForm{Class: "forbidden"}, nil
	case "hidden":
		return DenyForm{Class: "hidden"}, nil
	case "redirect":
		return DenyForm{Redirect: true}, nil
	}
	if len(s) > len("redirect:") && strings.EqualFold(s[:len("redirect:")], "redirect:") {
		to, err := parseLocationPattern(s[len("redirect:"):])
		if err != nil {
			return DenyForm{}, fmt.Errorf("%q: %v", s, err)
		}
		return DenyForm{Redirect: true, To: &to}, nil
	}
	code, err := strconv.Atoi(s)
	if err != nil || code < 100 || code > 599 {
		return DenyForm{}, fmt.Errorf("%q: want a status code (100..599), one of login, unauthenticated, forbidden, hidden, redirect, or redirect:/path-pattern", s)
	}
	if code >= 500 {
		// A crash must never read as a denial (docs/config.md, "Denial
		// signatures"): a 5xx passes only where a signature recognises the
		// application's denial, and then its class is the form.
		return DenyForm{}, fmt.Errorf("%d: a 5xx is never a denial by itself, since a crash must not read as one; recognise the application's denial with a signature (denials: [{status: %d, body: \"its message\"}]) and write the class it names in deny_as (forbidden by default)", code, code)
	}
	switch code {
	case 401:
		return DenyForm{Class: "unauthenticated", Status: 401}, nil
	case 403:
		return DenyForm{Class: "forbidden", Status: 403}, nil
	case 404, 410:
		return DenyForm{Class: "hidden", Status: code}, nil
	}
	return DenyForm{Status: code}, nil
}

// parseLocationPattern reads the path pattern a redirect's Location is
// matched with (deny_as: "redirect:/home*", a denial signature's
// location): a matrix pattern without a method and without role
// variables, since it is the same for every role.
func parseLocationPattern(s string) (Pattern, error) {
	s = strings.TrimSpace(s)
	if !strings.HasPrefix(s, "/") {
		return Pattern{}, fmt.Errorf("want a path pattern on the target, starting with \"/\", such as /home* or /login?reason=*")
	}
	p, err := parsePattern(s)
	if err != nil {
		return Pattern{}, err
	}
	if len(p.VarRefs()) > 0 {
		return Pattern{}, fmt.Errorf("a redirect's pattern is the same for every role: it cannot use role variables")
	}
	return p, nil
}
