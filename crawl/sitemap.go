package crawl

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/xml"
	"io"
	"strings"
)

const (
	// maxSitemaps bounds the sitemap files one role reads.
	maxSitemaps = 100
	// maxSitemapURLs bounds the <loc> read from one sitemap file (the
	// protocol's own limit is 50,000).
	maxSitemapURLs = 50000
)

// robots is what discovery reads in robots.txt.
type robots struct {
	paths    []string // Allow and Disallow paths, cut at the first wildcard
	sitemaps []string // Sitemap lines
}

// parseRobots reads robots.txt: the paths of every Allow and Disallow
// line, whatever the user agent (a path hidden from crawlers is the
// kind of path an audit wants), cut at the first "*" or "$", and every
// Sitemap line. Each is listed once, in order.
func parseRobots(body []byte) robots {
	var r robots
	seen := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		v = strings.TrimSpace(v)
		switch strings.ToLower(strings.TrimSpace(k)) {
		case "allow", "disallow":
			if i := strings.IndexAny(v, "*$"); i >= 0 {
				v = v[:i]
			}
			if !strings.HasPrefix(v, "/") || seen["p"+v] {
				continue
			}
			seen["p"+v] = true
			r.paths = append(r.paths, v)
		case "sitemap":
			if v != "" && !seen["s"+v] {
				seen["s"+v] = true
				r.sitemaps = append(r.sitemaps, v)
			}
		}
	}
	return r
}

// sitemap is what discovery reads in one sitemap file.
type sitemap struct {
	index bool     // a sitemap index: locs are sitemaps
	locs  []string // <loc> of <url> or <sitemap>, in order
}

// parseSitemap reads a sitemap or a sitemap index (sitemaps.org), gzip
// compressed or not (by its magic bytes). At most maxBody bytes are
// decompressed; a document cut short gives the <loc> read before the cut.
func parseSitemap(body []byte, maxBody int64) sitemap {
	var sm sitemap
	var r io.Reader = bytes.NewReader(body)
	if len(body) >= 2 && body[0] == 0x1f && body[1] == 0x8b {
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			return sm
		}
		defer zr.Close()
		r = io.LimitReader(zr, maxBody)
	}
	dec := xml.NewDecoder(r)
	dec.Strict = false
	var stack []string
	var text strings.Builder // the text of the <loc> being read
	for len(sm.locs) < maxSitemapURLs {
		tok, err := dec.Token()
		if err != nil {
			return sm // a <loc> cut short is not kept: its URL may be cut too
		}
		n := len(stack)
		inLoc := n >= 2 && stack[n-1] == "loc" && (stack[n-2] == "url" || stack[n-2] == "sitemap")
		switch t := tok.(type) {
		case xml.StartElement:
			name := strings.ToLower(t.Name.Local)
			if n == 0 && name == "sitemapindex" {
				sm.index = true
			}
			stack = append(stack, name)
			text.Reset()
		case xml.EndElement:
			if inLoc {
				if loc := strings.TrimSpace(text.String()); loc != "" {
					sm.locs = append(sm.locs, loc)
				}
			}
			if n > 0 {
				stack = stack[:n-1]
			}
			text.Reset()
		case xml.CharData:
			if inLoc && text.Len() <= maxURLLen {
				text.Write(t)
			}
		}
	}
	return sm
}
