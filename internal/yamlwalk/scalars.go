package yamlwalk

import (
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Str returns the text of scalar n, passed through Text when set.
func (w *Walker) Str(n *yaml.Node, path string) (string, bool) {
	n = Deref(n)
	if IsNull(n) || n.Kind != yaml.ScalarNode {
		w.Errorf(n, path, "must be a string, not %s", KindName(n))
		return "", false
	}
	if w.Text != nil {
		return w.Text(n, path, n.Value)
	}
	return n.Value, true
}

// Int reads a decimal integer in [lo, hi]; the text of a string is
// read too, but not a float or a boolean.
func (w *Walker) Int(n *yaml.Node, path string, lo, hi int64) (int64, bool) {
	n = Deref(n)
	if n != nil && n.Kind == yaml.ScalarNode && (n.Tag == "!!float" || n.Tag == "!!bool") {
		w.Errorf(n, path, "must be an integer")
		return 0, false
	}
	s, ok := w.Str(n, path)
	if !ok {
		return 0, false
	}
	v, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil {
		w.Errorf(n, path, "must be an integer")
		return 0, false
	}
	if v < lo || v > hi {
		w.Errorf(n, path, "%d is out of range %d..%d", v, lo, hi)
		return 0, false
	}
	return v, true
}

// Bool reads true or false, in any case, quoted or not.
func (w *Walker) Bool(n *yaml.Node, path string) (bool, bool) {
	n = Deref(n)
	if IsNull(n) || n.Kind != yaml.ScalarNode {
		w.Errorf(n, path, "must be true or false")
		return false, false
	}
	switch strings.ToLower(strings.TrimSpace(n.Value)) {
	case "true":
		return true, true
	case "false":
		return false, true
	}
	w.Errorf(n, path, "must be true or false, not %q", n.Value)
	return false, false
}

// Duration reads a Go duration ("10s", "1m30s").
func (w *Walker) Duration(n *yaml.Node, path string) (time.Duration, bool) {
	s, ok := w.Str(n, path)
	if !ok {
		return 0, false
	}
	d, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil {
		w.Errorf(n, path, "%q is not a Go duration such as 10s or 1m30s", s)
		return 0, false
	}
	return d, true
}

// DurationIn reads a Go duration in [lo, hi].
func (w *Walker) DurationIn(n *yaml.Node, path string, lo, hi time.Duration) (time.Duration, bool) {
	d, ok := w.Duration(n, path)
	if !ok {
		return 0, false
	}
	if d < lo || d > hi {
		w.Errorf(n, path, "%v is out of range %v..%v", d, lo, hi)
		return 0, false
	}
	return d, true
}
