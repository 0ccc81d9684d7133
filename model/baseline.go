package model

import "time"

// BaselineEntry is one accepted finding, identified by its fingerprint.
type BaselineEntry struct {
	Fingerprint string  `json:"fingerprint"`
	Verdict     Verdict `json:"verdict,omitempty"`
	Template    string  `json:"template,omitempty"` // "GET /api/orders/{id}"
	Role        string  `json:"role,omitempty"`
	Reason      string  `json:"reason"`
	// Expires is the last day (UTC, "2006-01-02") the entry accepts its
	// finding; "" for never.
	Expires string `json:"expires,omitempty"`
	// Line is the entry's line in the baseline file.
	Line int `json:"-"`
}

// Expired reports whether e no longer accepts its finding at now: from
// the day after Expires, in UTC.
func (e BaselineEntry) Expired(now time.Time) bool {
	if e.Expires == "" {
		return false
	}
	d, err := time.Parse(time.DateOnly, e.Expires)
	if err != nil {
		return true // ParseBaseline rejects this; never accept on a bad date
	}
	return !now.UTC().Before(d.AddDate(0, 0, 1))
}

// BaselineResult is the outcome of judging a run with a baseline, stored
// in the run (Run.Baseline).
type BaselineResult struct {
	File string `json:"file"`
	// New, Accepted and Expired count findings by state.
	New      int `json:"new"`
	Accepted int `json:"baselined"`
	Expired  int `json:"expired"`
	// Fixed lists the entries whose endpoint and role were probed without
	// giving their finding; Unseen those this run did not probe (a narrowed
	// or interrupted run), which may or may not be fixed.
	Fixed  []BaselineEntry `json:"fixed"`
	Unseen []BaselineEntry `json:"unseen,omitempty"`
}
