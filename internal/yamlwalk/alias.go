package yamlwalk

import "gopkg.in/yaml.v3"

// The alias budget (MaxAliasNodes).
const (
	aliasNodesBase    = 10_000
	aliasNodesPerNode = 10
	aliasNodesCap     = 1_000_000
)

// MaxAliasNodes is how many nodes a document of written nodes may reach
// through aliases, counted as a full walk of its expansion would visit
// them: 10,000, plus 10 per node written, and never more than 1,000,000.
// A hand-written file that shares a few blocks stays far below it; nested
// aliases, each repeating the last several times, pass it within a few
// levels, long before they cost any memory.
func MaxAliasNodes(written int) int {
	return min(aliasNodesBase+aliasNodesPerNode*written, aliasNodesCap)
}

// aliasCheck measures the expansion of a document's aliases.
type aliasCheck struct {
	w *Walker
	// open holds the mappings and lists being walked: an alias to one of
	// them lies inside the value it names.
	open map[*yaml.Node]bool
	// size memoises expanded; -1 while a node is being measured.
	size         map[*yaml.Node]int
	limit, total int
	written      int
}

// checkAliases records a problem, and returns false, when the aliases of
// the document at root would expand past MaxAliasNodes, or one lies
// inside the value it names (a walk would never end).
func (w *Walker) checkAliases(root *yaml.Node) bool {
	written := countNodes(root)
	c := &aliasCheck{w: w, open: map[*yaml.Node]bool{}, size: map[*yaml.Node]int{},
		limit: MaxAliasNodes(written), written: written}
	return c.walk(root, "")
}

// countNodes counts the nodes of the tree at n as written, not following
// aliases.
func countNodes(n *yaml.Node) int {
	c := 1
	for _, k := range n.Content {
		c += countNodes(k)
	}
	return c
}

// walk visits the tree at n as written, at field path, adding the
// expansion of every alias to the total, in document order.
func (c *aliasCheck) walk(n *yaml.Node, path string) bool {
	switch n.Kind {
	case yaml.AliasNode:
		if n.Alias == nil {
			return true
		}
		if c.open[n.Alias] {
			c.w.Errorf(n, path, "alias *%s is inside the value it names: it would expand without end", n.Value)
			return false
		}
		c.total += c.expanded(n.Alias)
		if c.total > c.limit {
			c.w.Errorf(n, path, "aliases expand to more than %d nodes, the most for a document of %d nodes: nest fewer aliases or write the values out",
				c.limit, c.written)
			return false
		}
		return true
	case yaml.MappingNode:
		c.open[n] = true
		defer delete(c.open, n)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			vpath := path
			if dk := Deref(k); dk != nil && dk.Kind == yaml.ScalarNode {
				vpath = Join(path, dk.Value)
			}
			if !c.walk(k, path) || !c.walk(v, vpath) {
				return false
			}
		}
	case yaml.SequenceNode:
		c.open[n] = true
		defer delete(c.open, n)
		for i, v := range n.Content {
			if !c.walk(v, Index(path, i)) {
				return false
			}
		}
	}
	return true
}

// expanded returns how many nodes a walk of n visits when it follows
// every alias, counting at most limit+1.
func (c *aliasCheck) expanded(n *yaml.Node) int {
	if s, ok := c.size[n]; ok {
		if s < 0 { // n holds an alias to itself: without end
			return c.limit + 1
		}
		return s
	}
	c.size[n] = -1
	s := 1
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		s += c.expanded(n.Alias)
	}
	for _, k := range n.Content {
		if s > c.limit {
			break
		}
		s += c.expanded(k)
	}
	s = min(s, c.limit+1)
	c.size[n] = s
	return s
}
