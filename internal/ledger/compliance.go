package ledger

import (
	"context"
	"encoding/json"
	"sort"
)

// openFindings selects the findings that count against a stack: open or in
// progress, and not excepted.
const openFindings = ` WHERE status IN ('open', 'in-progress') AND exception = ''`

func sortGroups(gs []Group) {
	sort.Slice(gs, func(i, j int) bool {
		a, b := gs[i], gs[j]
		if rank(a.Severity) != rank(b.Severity) {
			return rank(a.Severity) < rank(b.Severity)
		}
		if a.Total != b.Total {
			return a.Total > b.Total
		}
		return a.Key < b.Key
	})
}

// Compliance is how a home's stacks stand, from the ledger: each stack as
// its last complete update or audit left it.
type Compliance struct {
	// PolicyScore is the share of policy × stack pairs (every policy that
	// ran on the stack) with no open finding; ResourceScore the share of
	// resources with none. An open finding is open or in progress and not
	// excepted. Both are 1 when nothing ran.
	PolicyScore   float64 `json:"policyScore"`
	ResourceScore float64 `json:"resourceScore"`
	Pairs         int     `json:"policyStackPairs"`
	FailingPairs  int     `json:"failingPairs"`
	Resources     int     `json:"resources"`
	Failing       int     `json:"failingResources"`
	// Table counts open findings per stack and pack, by severity.
	Table []Cell `json:"table"`
}

// Cell is the open findings of one pack on one stack.
type Cell struct {
	Stack      string         `json:"stack"` // org/project/stack
	Pack       string         `json:"pack"`
	BySeverity map[string]int `json:"bySeverity"`
}

// Compliance computes the scores and the table.
func (s *Store) Compliance(ctx context.Context) (*Compliance, error) {
	stacks, err := s.lastRuns(ctx)
	if err != nil {
		return nil, err
	}
	// Aggregated in the database: a ledger of a million findings is not
	// read into memory. One pass gives the failing policy × stack pairs and
	// the table, another the failing resources per stack.
	rows, err := s.db.QueryContext(ctx, `SELECT organization, project, stack, pack, policy, severity, COUNT(*) FROM findings`+openFindings+
		` GROUP BY organization, project, stack, pack, policy, severity`)
	if err != nil {
		return nil, s.fail(err)
	}
	defer rows.Close()
	failingPairs := map[string]bool{}
	cells := map[[2]string]map[string]int{}
	for rows.Next() {
		var org, project, stack, pack, policy, sev string
		var n int
		if err := rows.Scan(&org, &project, &stack, &pack, &policy, &sev, &n); err != nil {
			return nil, s.fail(err)
		}
		key := org + "/" + project + "/" + stack
		failingPairs[key+"\x00"+pack+"/"+policy] = true
		c := cells[[2]string{key, pack}]
		if c == nil {
			c = map[string]int{}
			cells[[2]string{key, pack}] = c
		}
		c[sev] += n
	}
	if err := rows.Err(); err != nil {
		return nil, s.fail(err)
	}
	failingResources := map[string]int{}
	res, err := s.db.QueryContext(ctx, `SELECT organization, project, stack, COUNT(DISTINCT urn) FROM findings`+openFindings+` AND urn <> '' GROUP BY organization, project, stack`)
	if err != nil {
		return nil, s.fail(err)
	}
	defer res.Close()
	for res.Next() {
		var org, project, stack string
		var n int
		if err := res.Scan(&org, &project, &stack, &n); err != nil {
			return nil, s.fail(err)
		}
		failingResources[org+"/"+project+"/"+stack] = n
	}
	if err := res.Err(); err != nil {
		return nil, s.fail(err)
	}
	out := &Compliance{PolicyScore: 1, ResourceScore: 1, Table: []Cell{}}
	for key, l := range stacks {
		out.Pairs += len(l.ran)
		out.Resources += l.resources
		for _, p := range l.ran {
			if failingPairs[key+"\x00"+p] {
				out.FailingPairs++
			}
		}
	}
	for k, n := range failingResources {
		if stacks[k] != nil {
			out.Failing += n
		}
	}
	if out.Pairs > 0 {
		out.PolicyScore = 1 - float64(out.FailingPairs)/float64(out.Pairs)
	}
	if out.Resources > 0 {
		out.ResourceScore = 1 - float64(min(out.Failing, out.Resources))/float64(out.Resources)
	}
	for k, c := range cells {
		out.Table = append(out.Table, Cell{Stack: k[0], Pack: k[1], BySeverity: c})
	}
	sort.Slice(out.Table, func(i, j int) bool {
		a, b := out.Table[i], out.Table[j]
		if a.Stack != b.Stack {
			return a.Stack < b.Stack
		}
		return a.Pack < b.Pack
	})
	return out, nil
}

// last is what a stack's last complete update or audit ran.
type last struct {
	ran       []string // pack/policy
	resources int
}

// lastRuns is each stack's (org/project/stack) last complete update or
// audit: previews do not say how a stack stands.
func (s *Store) lastRuns(ctx context.Context) (map[string]*last, error) {
	runs, err := s.db.QueryContext(ctx, `SELECT organization, project, stack, ran, resources FROM runs WHERE complete AND kind <> 'preview' ORDER BY started DESC`)
	if err != nil {
		return nil, s.fail(err)
	}
	defer runs.Close()
	stacks := map[string]*last{}
	for runs.Next() {
		var org, project, stack, ran string
		var resources int
		if err := runs.Scan(&org, &project, &stack, &ran, &resources); err != nil {
			return nil, s.fail(err)
		}
		key := org + "/" + project + "/" + stack
		if stacks[key] != nil {
			continue // an older run of a stack already seen
		}
		l := &last{resources: resources}
		_ = json.Unmarshal([]byte(ran), &l.ran)
		stacks[key] = l
	}
	if err := runs.Err(); err != nil {
		return nil, s.fail(err)
	}
	return stacks, nil
}

// StackStanding is how one stack stands per policy: what its last complete
// update or audit ran, and the open findings of each policy.
type StackStanding struct {
	Stack string `json:"stack"` // org/project/stack
	// Ran lists the policies that ran, as pack/policy.
	Ran []string `json:"ran"`
	// Open counts open findings (open or in progress, not excepted) by
	// pack/policy.
	Open map[string]int `json:"open"`
}

// Standing is every stack's standing, by stack: what a report per
// framework control is made of (a control passes on a stack when its
// policies ran there and none has an open finding).
func (s *Store) Standing(ctx context.Context) ([]StackStanding, error) {
	stacks, err := s.lastRuns(ctx)
	if err != nil {
		return nil, err
	}
	open := map[string]map[string]int{}
	rows, err := s.db.QueryContext(ctx, `SELECT organization, project, stack, pack, policy, COUNT(*) FROM findings`+openFindings+
		` GROUP BY organization, project, stack, pack, policy`)
	if err != nil {
		return nil, s.fail(err)
	}
	defer rows.Close()
	for rows.Next() {
		var org, project, stack, pack, policy string
		var n int
		if err := rows.Scan(&org, &project, &stack, &pack, &policy, &n); err != nil {
			return nil, s.fail(err)
		}
		key := org + "/" + project + "/" + stack
		if open[key] == nil {
			open[key] = map[string]int{}
		}
		open[key][pack+"/"+policy] += n
	}
	if err := rows.Err(); err != nil {
		return nil, s.fail(err)
	}
	out := make([]StackStanding, 0, len(stacks))
	for key, l := range stacks {
		st := StackStanding{Stack: key, Ran: l.ran, Open: open[key]}
		if st.Ran == nil {
			st.Ran = []string{}
		}
		if st.Open == nil {
			st.Open = map[string]int{}
		}
		out = append(out, st)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Stack < out[j].Stack })
	return out, nil
}
