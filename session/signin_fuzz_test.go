package session

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/permaudit/permaudit/roles"
)

// FuzzParseForms feeds hostile pages to the login form parser. Every form
// found posts with GET or POST to an absolute URL without a fragment,
// every control has a name, and the same page gives the same forms.
func FuzzParseForms(f *testing.F) {
	page, _ := url.Parse("http://127.0.0.1:8080/login")
	f.Fuzz(func(t *testing.T, body []byte) {
		forms := parseForms(body, page)
		again := parseForms(body, page)
		if len(forms) != len(again) {
			t.Fatalf("%d forms, then %d", len(forms), len(again))
		}
		for i, fm := range forms {
			if fm.method != http.MethodGet && fm.method != http.MethodPost {
				t.Fatalf("method %q", fm.method)
			}
			if fm.action == nil || !fm.action.IsAbs() || fm.action.Fragment != "" {
				t.Fatalf("action %v", fm.action)
			}
			if len(fm.controls) != len(again[i].controls) {
				t.Fatalf("controls differ")
			}
			for _, c := range fm.controls {
				if c.name == "" {
					t.Fatalf("a control without a name")
				}
			}
		}
	})
}

// FuzzJWTExpiry: any token gives zero or a time between the epoch and
// the year 5138, and never panics.
func FuzzJWTExpiry(f *testing.F) {
	f.Fuzz(func(t *testing.T, token string) {
		exp := jwtExpiry(token)
		if !exp.IsZero() && (exp.Before(time.Unix(0, 0)) || exp.After(time.Unix(1e11+1, 0))) {
			t.Fatalf("expiry %v", exp)
		}
	})
}

// FuzzCapture reads variables from hostile answers: a capture either
// fails or gives a non-empty text, never panics.
func FuzzCapture(f *testing.F) {
	f.Fuzz(func(t *testing.T, body []byte, from string) {
		if roles.CheckCaptureFrom(from) != nil {
			return
		}
		vars, err := capture(&loginAnswer{header: http.Header{"X-A": {"v"}}, body: body}, []roles.Capture{{Var: "x", From: from}})
		if err != nil {
			return
		}
		v, ok := vars["x"]
		if !ok {
			t.Fatalf("no error and no value for %q", from)
		}
		if v == "" && !strings.HasPrefix(from, "regex:") {
			t.Fatalf("an empty value for %q", from)
		}
	})
}
