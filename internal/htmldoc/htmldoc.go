// Package htmldoc holds the two facts about HTML answers that both the
// classifier (package judge: is this a login page?) and discovery
// (package crawl: which links does it hold?) need: whether an answer is
// an HTML document, and the attributes of a tag as the tokenizer reads
// them.
package htmldoc

import (
	"net/http"
	"strings"

	"golang.org/x/net/html"
)

// Attrs returns the attributes of the current tag, names lower-cased
// (the tokenizer does that), first occurrence kept.
func Attrs(z *html.Tokenizer) map[string]string {
	attrs := map[string]string{}
	for {
		k, v, more := z.TagAttr()
		if _, dup := attrs[string(k)]; !dup {
			attrs[string(k)] = string(v)
		}
		if !more {
			return attrs
		}
	}
}

// Is reports whether the answer is an HTML document, by its
// Content-Type or, without one, by sniffing.
func Is(h http.Header, body []byte) bool {
	ct := h.Get("Content-Type")
	if ct == "" {
		ct = http.DetectContentType(body)
	}
	ct = strings.ToLower(ct)
	return strings.Contains(ct, "text/html") || strings.Contains(ct, "application/xhtml")
}
