package model

// Coverage says what discovery found, role by role, and what the probe
// asked: an endpoint never requested is a leak never found.
type Coverage struct {
	// Endpoints is the number of inventory entries.
	Endpoints int `json:"endpoints"`
	// Probed is the number of entries probed as at least one role.
	Probed int `json:"probed"`
	// NotProbed is the number of entries never probed: methods not sent,
	// --only, or a run cut short.
	NotProbed int `json:"not_probed"`
	// Roles has one line per configured role, in configuration order.
	Roles []RoleCoverage `json:"roles"`
	// Sources is source name to the number of entries it found (an entry
	// found by several sources counts for each).
	Sources map[string]int `json:"sources"`
	// Partial lists the entries that only some of the roles that crawled
	// found, in inventory order: what one role sees and another does not.
	Partial []PartialEntry `json:"partial"`
}

// RoleCoverage is what one role found and was asked.
type RoleCoverage struct {
	Role string `json:"role"`
	// Found is the number of entries the role discovered.
	Found int `json:"found"`
	// Only is the number of entries no other role discovered.
	Only int `json:"only"`
	// Pages is the number of discovery requests the role made.
	Pages int `json:"pages"`
	// Probed is the number of endpoints probed as the role.
	Probed int `json:"probed"`
	// Allowed is the number of those answered "allowed".
	Allowed int `json:"allowed"`
}

// PartialEntry is an inventory entry only some roles found.
type PartialEntry struct {
	Method   string   `json:"method"`
	URL      string   `json:"url"`
	Template string   `json:"template"`
	FoundBy  []string `json:"found_by"`
}
