package model

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// Observed renders an observation for people: "200 allowed",
// "302 to /login (unauthenticated)", "403 forbidden (denial signature 1)",
// "error: connection refused".
func (o Observation) Observed() string {
	if o.Status == 0 {
		return "error: " + o.ErrorReason()
	}
	var details []string
	head := fmt.Sprintf("%d %s", o.Status, o.Class)
	if o.Status >= 300 && o.Status < 400 && o.Location != "" {
		head = fmt.Sprintf("%d to %s", o.Status, ShortLocation(o.URL, o.Location))
		details = append(details, string(o.Class))
	} else if o.Why != "" && o.Why != statusWhy(o.Status) {
		// "unavailable (status 503)" reads "503 error (unavailable)".
		details = append(details, strings.TrimSuffix(o.Why, " ("+statusWhy(o.Status)+")"))
	}
	if o.Class == Error && o.Err != "" && o.Err != o.Why {
		details = append(details, o.Err)
	}
	if n := o.Redirects(); n > 0 {
		details = append(details, "after "+plural(n, "redirect"))
	}
	if len(details) == 0 {
		return head
	}
	return head + " (" + strings.Join(details, "; ") + ")"
}

// ErrorReason says why an observation decides nothing.
func (o Observation) ErrorReason() string {
	switch {
	case o.Err != "":
		return o.Err
	case o.Why != "" && o.Why != statusWhy(o.Status):
		return o.Why
	case o.Status >= 500:
		return fmt.Sprintf("%d without a denial signature", o.Status)
	case o.Truncated:
		return "the body was cut at the size cap"
	case o.Status == 0:
		return "no answer"
	}
	return statusWhy(o.Status)
}

// statusWhy is the Why of an answer classified by its status alone.
func statusWhy(status int) string { return "status " + strconv.Itoa(status) }

// Redirects counts the redirects followed: o.Chain holds every answer, the
// final one included.
func (o Observation) Redirects() int {
	if len(o.Chain) < 2 {
		return 0
	}
	return len(o.Chain) - 1
}

// ShortLocation shows a Location on the probed URL's origin as its path.
func ShortLocation(base, loc string) string {
	b, err := url.Parse(base)
	if err != nil {
		return loc
	}
	l, err := b.Parse(loc)
	if err != nil {
		return loc
	}
	if l.Scheme == b.Scheme && l.Host == b.Host {
		return PathOf(l.String())
	}
	return l.String()
}

// PathOf returns the path and query of rawURL ("/orders/1?x=2").
func PathOf(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return rawURL
	}
	return u.RequestURI()
}

// plural spells a count of word: "1 redirect", "2 redirects".
func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return strconv.Itoa(n) + " " + word + "s"
}
